/// Parses `Cookie` request headers (RFC 6265 §5.4): `name=value` pairs separated by `;`.
///
/// ```swift
/// CookieHeader.parse(["a=1; b=\"2\""])  // ["a": "1", "b": "2"]
/// ```
enum CookieHeader {
    /// The first value of each name wins, as browsers send the most specific cookie first. Walks the bytes:
    /// every page view parses the header, and only the delimiters are ASCII that matters.
    static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            let bytes = header.utf8
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
                if let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                    let name = trimmed(bytes, start..<equals)
                    var value = trimmed(bytes, bytes.index(after: equals)..<end)
                    if bytes.distance(from: value.lowerBound, to: value.upperBound) >= 2,
                        bytes[value.lowerBound] == UInt8(ascii: "\""),
                        bytes[bytes.index(before: value.upperBound)] == UInt8(ascii: "\"")
                    {
                        value = bytes.index(after: value.lowerBound)..<bytes.index(before: value.upperBound)
                    }
                    if !name.isEmpty {
                        let key = String(header[name])
                        if cookies[key] == nil { cookies[key] = String(header[value]) }
                    }
                }
                start = end == bytes.endIndex ? end : bytes.index(after: end)
            }
        }
        return cookies
    }

    /// `range` without the spaces and tabs at either end.
    private static func trimmed(_ bytes: String.UTF8View, _ range: Range<String.Index>) -> Range<String.Index> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper, bytes[lower] == UInt8(ascii: " ") || bytes[lower] == UInt8(ascii: "\t") {
            lower = bytes.index(after: lower)
        }
        while lower < upper {
            let last = bytes.index(before: upper)
            guard bytes[last] == UInt8(ascii: " ") || bytes[last] == UInt8(ascii: "\t") else { break }
            upper = last
        }
        return lower..<upper
    }

    /// A `Set-Cookie` value with the attributes of DESIGN.md §5.
    static func setCookie(name: String, value: String, maxAgeSeconds: Int64, secure: Bool) -> String {
        var text = "\(name)=\(value); Max-Age=\(maxAgeSeconds); Path=/; HttpOnly; SameSite=Lax"
        if secure { text += "; Secure" }
        return text
    }
}
