import NIOHTTP1

/// Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop fields never cross the proxy.
///
/// Everything here runs once or twice per proxied request, so names are compared byte by byte, ASCII
/// case-insensitively, without lower-casing copies or Foundation.
extension HTTPHeaders {
    /// The fixed list; every name listed in `Connection` is removed as well.
    static let hopByHopNames: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes the hop-by-hop fields: the fixed list plus every name that `Connection` names. The fields are
    /// removed in place, name by name (each removal takes every line of that name, in any case): most responses
    /// carry one (`Connection: keep-alive`), and rebuilding the headers for it cost about 1% of a personalized page.
    mutating func removeHopByHopFields() {
        let named = connectionNominatedNames()
        while let field = first(where: { Self.isHopByHop($0.name, named: named) }) { remove(name: field.name) }
    }

    /// The lower-cased names listed in `Connection` that are not hop-by-hop already (`keep-alive` and `close`
    /// are the usual values, so this is nearly always empty and allocates nothing).
    func connectionNominatedNames() -> [String] {
        var named: [String] = []
        _ = containsToken(in: "connection") { token in
            if !Self.isHopByHop(token), !token.equalsIgnoringASCIICase("close") { named.append(token.lowercased()) }
            return false
        }
        return named
    }

    /// Whether a comma-separated token of the `name` fields (`name` in any case), trimmed of spaces and tabs and
    /// not empty, satisfies `predicate`. Reads the values in place, with no array and no copies: every
    /// response's `Connection` and every page's `Vary` are read here.
    func containsToken(in name: String, where predicate: (Substring) -> Bool) -> Bool {
        for (fieldName, value) in self where fieldName.equalsIgnoringASCIICase(name) {
            var rest = Substring(value)
            while !rest.isEmpty {
                let comma = rest.utf8.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
                let token = rest[..<comma].trimmingASCIIBlanks()
                if !token.isEmpty, predicate(token) { return true }
                rest = comma == rest.endIndex ? rest[comma...] : rest[rest.utf8.index(after: comma)...]
            }
        }
        return false
    }

    /// Hop-by-hop: in the fixed list, or named by `Connection` (`named`).
    static func isHopByHop(_ name: String, named: [String]) -> Bool {
        if isHopByHop(name) { return true }
        return !named.isEmpty && named.contains { name.equalsIgnoringASCIICase($0) }
    }

    /// Case-insensitive membership in the fixed list without allocating: lengths first, then ASCII bytes.
    static func isHopByHop(_ name: some StringProtocol) -> Bool {
        let length = name.utf8.count
        guard length >= 2, length <= 19 else { return false }
        for candidate in hopByHopNames where candidate.utf8.count == length {
            if name.equalsIgnoringASCIICase(candidate) { return true }
        }
        return false
    }

    /// Whether `name`'s comma-separated values contain `token`, in any case.
    func containsToken(_ token: String, in name: String) -> Bool {
        containsToken(in: name) { $0.equalsIgnoringASCIICase(token) }
    }

    /// The value of `Content-Length` when there is exactly one valid one.
    var contentLength: Int? {
        // Read in place: the subscript that lists every value makes an array for each response.
        var value: String?
        for field in self
        where field.name.utf8.count == 14 && field.name.equalsIgnoringASCIICase("content-length") {
            guard value == nil else { return nil }
            value = field.value
        }
        guard let value, let length = Int(value.trimmingASCIISpaces()), length >= 0 else { return nil }
        return length
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    var mediaType: String? {
        guard let value = self.first(name: "content-type") else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map { String($0) } ?? value
        return type.trimmingASCIISpaces().lowercased()
    }

    /// Whether `Content-Type` is `text/html` or `application/xhtml+xml` (any case, any parameters), read
    /// without copying the value.
    var hasHTMLContentType: Bool {
        guard let value = self.first(name: "content-type") else { return false }
        var type = Substring(value)
        if let semicolon = type.utf8.firstIndex(of: UInt8(ascii: ";")) { type = type[..<semicolon] }
        while let first = type.utf8.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            type = type.dropFirst()
        }
        while let last = type.utf8.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            type = type.dropLast()
        }
        return type.equalsIgnoringASCIICase("text/html") || type.equalsIgnoringASCIICase("application/xhtml+xml")
    }

    /// The `charset` parameter of `Content-Type`, when present.
    var contentTypeCharset: String? {
        // Most pages name no parameter: no split then.
        guard let value = self.first(name: "content-type"), value.utf8.contains(UInt8(ascii: ";")) else { return nil }
        for parameter in value.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingASCIISpaces().lowercased() == "charset" else { continue }
            var charset = parts[1].trimmingASCIISpaces()
            if charset.hasPrefix("\""), charset.hasSuffix("\""), charset.count >= 2 {
                charset = String(charset.dropFirst().dropLast())
            }
            return charset
        }
        return nil
    }

    /// Adds `token` to a comma-separated field (`Vary`) unless it is already there.
    mutating func addToken(_ token: String, to name: String) {
        if containsToken(in: name, where: { $0 == "*" || $0.equalsIgnoringASCIICase(token) }) { return }
        add(name: name, value: token)
    }
}

extension HTTPResponseStatus {
    /// Responses that never carry a body, whatever their headers say.
    var forbidsBody: Bool {
        code < 200 || code == 204 || code == 304
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs; a slice of the same text, not a copy.
    func trimmingASCIIBlanks() -> Substring {
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, utf8[start] == UInt8(ascii: " ") || utf8[start] == UInt8(ascii: "\t") {
            start = utf8.index(after: start)
        }
        while end > start {
            let last = utf8.index(before: end)
            guard utf8[last] == UInt8(ascii: " ") || utf8[last] == UInt8(ascii: "\t") else { break }
            end = last
        }
        return self[start..<end]
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs, as a new string (`Substring.trimmingASCIIBlanks` trims in
    /// place).
    func trimmingASCIISpaces() -> String {
        String(Substring(self).trimmingASCIIBlanks())
    }

    /// ASCII case-insensitive equality with `other`, either side in any case. Compares bytes; allocates nothing.
    func equalsIgnoringASCIICase(_ other: some StringProtocol) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var expectedBytes = other.utf8.makeIterator()
        for byte in utf8 {
            guard let expected = expectedBytes.next() else { return false }
            if byte == expected { continue }
            // Only letters differ by case: both fold to the same a–z.
            let folded = byte | 0x20
            guard folded >= UInt8(ascii: "a"), folded <= UInt8(ascii: "z"), folded == expected | 0x20 else {
                return false
            }
        }
        return true
    }
}
