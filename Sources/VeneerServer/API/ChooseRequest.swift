import Foundation
import Hummingbird
import VeneerCore

/// Reads a choose-api body into a decision request. Lenient where clients differ (ids as numbers, device in
/// any case and absent meaning `all`, android's singular `name`/`group`), strict where Intempt is
/// (identification required, selectors matching `^[a-zA-Z0-9_-]*$`).
enum ChooseRequest {
    static func request(from body: Any, defaultSourceId: String) throws(APIError) -> DecisionRequest {
        guard let root = body as? [String: Any] else { throw APIError(.badRequest, "The body must be a JSON object") }
        guard let identification = root["identification"] as? [String: Any] else { throw APIError.noIdentification }
        let userId = try WireJSON.identifier(identification["userId"], field: "identification.userId")
        let profileId = try WireJSON.identifier(identification["profileId"], field: "identification.profileId")
        let sourceId = try WireJSON.identifier(identification["sourceId"], field: "identification.sourceId")
        guard userId != nil || profileId != nil else {
            throw APIError(.badRequest, "Identification needs a userId, or a profileId and a sourceId")
        }
        var request = DecisionRequest(
            identification: .init(sourceId: sourceId ?? defaultSourceId, profileId: profileId, userId: userId))
        request.names = try selectors(root, plural: "names", singular: "name")
        request.groups = try selectors(root, plural: "groups", singular: "group")
        switch root["device"] {
        case nil, is NSNull: request.device = .all
        case let text as String:
            guard let device = Device(caseInsensitive: text) else {
                throw APIError(.badRequest, "device must be one of all, desktop, mobile")
            }
            request.device = device
        default: throw APIError(.badRequest, "device must be one of all, desktop, mobile")
        }
        if let sessionId = try WireJSON.identifier(root["sessionId"], field: "sessionId") {
            request.sessionId = sessionId
        }
        if let kind = (root["optimizationType"] as? String).flatMap({ Optimization.Kind(rawValue: $0.lowercased()) }) {
            request.optimizationType = kind
        }
        if let url = root["url"] as? String, !url.isEmpty {
            let components = URLComponents(string: url)
            var query: [String: String] = [:]
            for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
            let path = components?.path ?? "/"
            request.page = PageFacts(path: path.isEmpty ? "/" : path, url: url, query: query)
        }
        return request
    }

    /// nil when absent (everything), `[]` filters to nothing.
    private static func selectors(_ root: [String: Any], plural: String, singular: String) throws(APIError) -> [String]?
    {
        var values: [String]?
        switch root[plural] {
        case nil, is NSNull: values = nil
        case let array as [Any]:
            values = try array.map { element throws(APIError) -> String in
                guard let text = element as? String else {
                    throw APIError(.badRequest, "\(plural) must be an array of strings")
                }
                return text
            }
        default: throw APIError(.badRequest, "\(plural) must be an array of strings")
        }
        if values == nil, let one = root[singular] as? String { values = [one] }
        if let values, values.contains(where: { !isSelector($0) }) { throw APIError.badSelector }
        return values
    }

    static func isSelector(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "-"
        }
    }
}
