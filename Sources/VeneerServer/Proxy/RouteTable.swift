import VeneerCore

/// Finds the `[[route]]` of proxy.conf that a path falls under: the first that matches, in file order.
///
/// ```swift
/// let table = RouteTable(routes: config.routes)
/// table.match(path: "/products/7")?.label  // "/products/*"
/// ```
struct RouteTable: Sendable {
    struct Match: Sendable {
        var route: Route
        /// The metric label: the prefix or pattern as written.
        var label: String
    }

    let routes: [Route]

    init(routes: [Route]) {
        self.routes = routes
    }

    func match(path: String) -> Match? {
        for route in routes {
            switch route.match {
            case .prefix(let prefix):
                if Self.pathHasPrefix(path, prefix) { return Match(route: route, label: prefix) }
            case .pattern(let pattern):
                if Self.glob(pattern, matches: path) { return Match(route: route, label: pattern) }
            }
        }
        return nil
    }

    /// `/shop` matches `/shop` and `/shop/…` but not `/shopping`; `/` and `/shop/` match as plain prefixes.
    static func pathHasPrefix(_ path: String, _ prefix: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        if prefix.hasSuffix("/") || path.count == prefix.count { return true }
        return path.dropFirst(prefix.count).first == "/"
    }

    /// `*` matches within one segment, `**` across segments.
    static func glob(_ pattern: String, matches path: String) -> Bool {
        let patternBytes = Array(pattern.utf8)
        let pathBytes = Array(path.utf8)
        return globMatch(patternBytes[...], pathBytes[...])
    }

    private static func globMatch(_ pattern: ArraySlice<UInt8>, _ path: ArraySlice<UInt8>) -> Bool {
        var pattern = pattern
        var path = path
        while let next = pattern.first {
            if next == UInt8(ascii: "*") {
                let isDouble = pattern.dropFirst().first == UInt8(ascii: "*")
                let rest = pattern.dropFirst(isDouble ? 2 : 1)
                var candidate = path
                while true {
                    if globMatch(rest, candidate) { return true }
                    guard let byte = candidate.first else { return false }
                    if !isDouble, byte == UInt8(ascii: "/") { return false }
                    candidate = candidate.dropFirst()
                }
            }
            guard let byte = path.first, byte == next else { return false }
            pattern = pattern.dropFirst()
            path = path.dropFirst()
        }
        return path.isEmpty
    }
}
