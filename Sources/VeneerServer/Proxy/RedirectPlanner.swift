import Foundation

/// Decides what a redirect payload does for one request: a pure function of the rendered target, the
/// request and `redirects.allow_hosts`.
///
/// ```swift
/// RedirectPlanner.plan(target: "/sale", status: 302, keepQuery: true, requestPath: "/", requestQuery: "a=1",
///                      requestHost: "shop.example", allowHosts: [])
/// // .redirect(location: "/sale?a=1", status: 302)
/// ```
enum RedirectPlanner {
    enum Plan: Sendable, Hashable {
        case redirect(location: String, status: Int)
        /// The request already is the target: serve the page, never loop.
        case alreadyThere
        /// Not relative and not on an allowed host, or not a URL at all.
        case rejected(String)
    }

    static func plan(
        target rawTarget: String, status: Int, keepQuery: Bool, requestPath: String, requestQuery: String?,
        requestHost: String?, allowHosts: [String]
    ) -> Plan {
        let target = rawTarget.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !target.isEmpty, !target.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return .rejected("empty target or control characters")
        }
        let isRelative = target.hasPrefix("/") && !target.hasPrefix("//") && !target.hasPrefix("/\\")
        var targetHost: String?
        var targetPath: String
        if isRelative {
            targetPath = target
        } else {
            guard let components = URLComponents(string: target), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty
            else { return .rejected("\"\(target)\" is neither relative nor an absolute http(s) URL") }
            let hostWithPort = components.port.map { "\(host):\($0)" } ?? host
            let allowed = allowHosts.contains { allowed in
                let lowered = allowed.lowercased()
                return lowered == host || lowered == hostWithPort
            }
            guard allowed else { return .rejected("host \(host) is not in redirects.allow_hosts") }
            targetHost = hostWithPort
            targetPath = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            if let query = components.percentEncodedQuery { targetPath += "?" + query }
        }
        if let fragment = targetPath.firstIndex(of: "#") { targetPath = String(targetPath[..<fragment]) }
        let targetPathOnly =
            targetPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            .first.map(String.init) ?? targetPath
        let sameHost = targetHost == nil || targetHost == requestHost?.lowercased()
        if sameHost, targetPathOnly == requestPath {
            return .alreadyThere
        }
        var location = target
        if keepQuery, let requestQuery, !requestQuery.isEmpty {
            if let hash = location.firstIndex(of: "#") {
                let fragment = location[hash...]
                location =
                    String(location[..<hash]) + (location[..<hash].contains("?") ? "&" : "?") + requestQuery
                    + fragment
            } else {
                location += (location.contains("?") ? "&" : "?") + requestQuery
            }
        }
        let validStatus = [301, 302, 303, 307, 308].contains(status) ? status : 302
        return .redirect(location: location, status: validStatus)
    }
}
