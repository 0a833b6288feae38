/// Parses `Cookie` request headers (RFC 6265 §5.4): `name=value` pairs separated by `;`.
///
/// ```swift
/// CookieHeader.parse(["a=1; b=\"2\""])  // ["a": "1", "b": "2"]
/// ```
enum CookieHeader {
    /// The first value of each name wins, as browsers send the most specific cookie first. Delimiters are found
    /// over the bytes: every page view parses the header, and splitting it by Characters cost more than the rest.
    static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            let bytes = header.utf8
            var start = bytes.startIndex
            while start < bytes.endIndex {
                let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
                if let equals = bytes[start..<end].firstIndex(of: UInt8(ascii: "=")) {
                    let name = header[start..<equals].trimmingASCIISpaces()
                    var value = header[bytes.index(after: equals)..<end].trimmingASCIISpaces()
                    if value.utf8.count >= 2, value.utf8.first == UInt8(ascii: "\""),
                        value.utf8.last == UInt8(ascii: "\"")
                    {
                        value = String(decoding: value.utf8.dropFirst().dropLast(), as: UTF8.self)
                    }
                    if !name.isEmpty, cookies[name] == nil { cookies[name] = value }
                }
                start = end == bytes.endIndex ? end : bytes.index(after: end)
            }
        }
        return cookies
    }

    /// A `Set-Cookie` value with the attributes of DESIGN.md §5.
    static func setCookie(name: String, value: String, maxAgeSeconds: Int64, secure: Bool) -> String {
        var text = "\(name)=\(value); Max-Age=\(maxAgeSeconds); Path=/; HttpOnly; SameSite=Lax"
        if secure { text += "; Secure" }
        return text
    }
}
