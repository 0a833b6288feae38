/// Parses `Cookie` request headers (RFC 6265 §5.4): `name=value` pairs separated by `;`.
///
/// ```swift
/// CookieHeader.parse(["a=1; b=\"2\""])  // ["a": "1", "b": "2"]
/// ```
enum CookieHeader {
    /// The first value of each name wins, as browsers send the most specific cookie first.
    static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            for pair in header.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = pair[pair.startIndex..<equals].trimmingASCIISpaces()
                var value = pair[pair.index(after: equals)...].trimmingASCIISpaces()
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = String(value.dropFirst().dropLast())
                }
                if !name.isEmpty, cookies[name] == nil { cookies[name] = value }
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
