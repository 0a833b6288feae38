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

    /// Each route with its answer and its prefix or pattern as bytes, made once: paths are matched on their
    /// bytes, as the request line carries them (as nginx compares them), with no `String` made or grapheme
    /// counted per request.
    private let entries: [Entry]

    private struct Entry: Sendable {
        var match: Match
        var bytes: [UInt8]
        var isPattern: Bool
    }

    init(routes: [Route]) {
        entries = routes.map { route in
            switch route.match {
            case .prefix(let prefix):
                Entry(match: Match(route: route, label: prefix), bytes: Array(prefix.utf8), isPattern: false)
            case .pattern(let pattern):
                Entry(match: Match(route: route, label: pattern), bytes: Array(pattern.utf8), isPattern: true)
            }
        }
    }

    func match(path: String) -> Match? {
        var path = path
        return path.withUTF8 { match(pathBytes: UnsafeRawBufferPointer($0)) }
    }

    /// As `match(path:)`, for a path given as its bytes.
    func match(pathBytes path: UnsafeRawBufferPointer) -> Match? {
        for entry in entries {
            let matches = entry.bytes.withUnsafeBytes { route in
                entry.isPattern ? Self.globMatch(route[...], path[...]) : Self.pathHasPrefix(path, route)
            }
            if matches { return entry.match }
        }
        return nil
    }

    /// `/shop` matches `/shop` and `/shop/…` but not `/shopping`; `/` and `/shop/` match as plain prefixes.
    private static func pathHasPrefix(_ path: UnsafeRawBufferPointer, _ prefix: UnsafeRawBufferPointer) -> Bool {
        guard path.count >= prefix.count, path.prefix(prefix.count).elementsEqual(prefix) else { return false }
        if prefix.last == UInt8(ascii: "/") || path.count == prefix.count { return true }
        return path[prefix.count] == UInt8(ascii: "/")
    }

    /// `*` matches within one segment, `**` across segments.
    private static func globMatch(
        _ pattern: Slice<UnsafeRawBufferPointer>, _ path: Slice<UnsafeRawBufferPointer>
    ) -> Bool {
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
