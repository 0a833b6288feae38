/// A filter of a `<< path | filter >>` chain, applied left to right.
enum TemplateFilter: Sendable, Hashable {
    /// `default: "text"`: replaces a missing, null or empty-string value.
    case defaultValue(String)
    case upper
    case lower
    /// HTML escape of `& < > " '`.
    case escape
    /// Opts out of the automatic HTML escape; changes nothing itself.
    case raw
    /// Percent-encoding for a URL component; RFC 3986 unreserved characters are kept.
    case url
    /// The value's JSON text (strings quoted, a missing value `null`).
    case json

    /// The names the parser accepts, in the order error messages list them.
    static let names = ["default", "upper", "lower", "escape", "raw", "url", "json"]

    /// Applies the filter; nil is a missing value, which only `default` and `json` turn into text.
    func apply(to value: JSONValue?) -> JSONValue? {
        switch self {
        case .defaultValue(let text):
            guard let value else { return .string(text) }
            if case .string(let string) = value, string.isEmpty { return .string(text) }
            return value
        case .upper:
            return value.map { .string($0.text.uppercased()) }
        case .lower:
            return value.map { .string($0.text.lowercased()) }
        case .escape:
            return value.map { value in
                var output = ""
                Self.appendHTMLEscaped(value.text, to: &output)
                return .string(output)
            }
        case .raw:
            return value
        case .url:
            return value.map { .string(Self.percentEncoded($0.text)) }
        case .json:
            return .string((value ?? .null).jsonText())
        }
    }

    /// Appends `text` with `& < > " '` replaced by entities; a text without them is appended whole.
    static func appendHTMLEscaped(_ text: String, to output: inout String) {
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = runStart
        while index != utf8.endIndex {
            let entity: String
            switch utf8[index] {
            case UInt8(ascii: "&"): entity = "&amp;"
            case UInt8(ascii: "<"): entity = "&lt;"
            case UInt8(ascii: ">"): entity = "&gt;"
            case UInt8(ascii: "\""): entity = "&quot;"
            case UInt8(ascii: "'"): entity = "&#39;"
            default:
                utf8.formIndex(after: &index)
                continue
            }
            // ASCII bytes always sit on scalar boundaries, so these indices slice the String safely.
            if runStart != index { output.append(contentsOf: text[runStart..<index]) }
            output.append(entity)
            utf8.formIndex(after: &index)
            runStart = index
        }
        if runStart == utf8.startIndex {
            output.append(text)
        } else if runStart != utf8.endIndex {
            output.append(contentsOf: text[runStart..<utf8.endIndex])
        }
    }

    /// UTF-8 percent-encoding of everything but `A–Z a–z 0–9 - . _ ~` (RFC 3986 §2.3).
    static func percentEncoded(_ text: String) -> String {
        let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
