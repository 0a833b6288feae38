import Foundation

extension PageFacts {
    /// Facts from a URL alone (`veneer choose --url`, choose-api's `url`): path, query, the URL itself.
    /// A bare path such as `/shop?x=1` is accepted too.
    public init(visitedURL: String) {
        let components = URLComponents(string: visitedURL)
        var query: [String: String] = [:]
        for item in components?.queryItems ?? [] where query[item.name] == nil {
            query[item.name] = item.value ?? ""
        }
        let path = components?.percentEncodedPath ?? ""
        self.init(path: path.isEmpty ? "/" : path, url: visitedURL, query: query)
    }
}
