import NIOHTTP1

/// Header rules of a forwarding proxy (RFC 9110 §7.6.1): hop-by-hop fields never cross the proxy.
extension HTTPHeaders {
    /// The fixed list; every name listed in `Connection` is removed as well.
    static let hopByHopNames: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade",
    ]

    /// Removes the hop-by-hop fields: the fixed list plus every name that `Connection` names. One pass, and
    /// no copy at all when there is nothing to remove (the common case for responses).
    mutating func removeHopByHopFields() {
        var named: [String] = []
        for value in self[canonicalForm: "connection"] {
            let name = value.trimmingASCIISpaces().lowercased()
            if !name.isEmpty { named.append(name) }
        }
        var needsRemoval = false
        for (name, _) in self where Self.isHopByHop(name) || (!named.isEmpty && named.contains(name.lowercased())) {
            needsRemoval = true
            break
        }
        guard needsRemoval else { return }
        var kept = HTTPHeaders()
        kept.reserveCapacity(count)
        for (name, value) in self {
            if Self.isHopByHop(name) || (!named.isEmpty && named.contains(name.lowercased())) { continue }
            kept.add(name: name, value: value)
        }
        self = kept
    }

    /// Case-insensitive membership in the fixed list without allocating: lengths first, then ASCII bytes.
    static func isHopByHop(_ name: String) -> Bool {
        let length = name.utf8.count
        guard length >= 2, length <= 19 else { return false }
        for candidate in hopByHopNames where candidate.utf8.count == length {
            if zip(name.utf8, candidate.utf8).allSatisfy({ ($0 | 0x20) == $1 }) { return true }
        }
        return false
    }

    /// Whether `name`'s comma-separated values contain `token` (case-insensitive).
    func containsToken(_ token: String, in name: String) -> Bool {
        self[canonicalForm: name].contains { $0.trimmingASCIISpaces().lowercased() == token }
    }

    /// The value of `Content-Length` when there is exactly one valid one.
    var contentLength: Int? {
        let values = self["content-length"]
        guard values.count == 1, let length = Int(values[0].trimmingASCIISpaces()), length >= 0 else { return nil }
        return length
    }

    /// The media type of `Content-Type`, lower-cased, without parameters.
    var mediaType: String? {
        guard let value = self.first(name: "content-type") else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map { String($0) } ?? value
        return type.trimmingASCIISpaces().lowercased()
    }

    /// The `charset` parameter of `Content-Type`, when present.
    var contentTypeCharset: String? {
        guard let value = self.first(name: "content-type") else { return nil }
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
        let lowered = token.lowercased()
        let existing = self[canonicalForm: name].map { $0.trimmingASCIISpaces().lowercased() }
        if existing.contains(lowered) || existing.contains("*") { return }
        add(name: name, value: token)
    }
}

extension HTTPResponseStatus {
    /// Responses that never carry a body, whatever their headers say.
    var forbidsBody: Bool {
        code < 200 || code == 204 || code == 304
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
