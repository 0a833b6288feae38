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
            return value.map { .string(Self.htmlEscaped($0.text)) }
        case .raw:
            return value
        case .url:
            return value.map { .string(Self.percentEncoded($0.text)) }
        case .json:
            return .string((value ?? .null).jsonText())
        }
    }

    /// Appends `text` with `& < > " '` replaced by entities; a text without them is copied whole.
    static func appendHTMLEscaped(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let entity: StaticString
                switch bytes[index] {
                case UInt8(ascii: "&"): entity = "&amp;"
                case UInt8(ascii: "<"): entity = "&lt;"
                case UInt8(ascii: ">"): entity = "&gt;"
                case UInt8(ascii: "\""): entity = "&quot;"
                case UInt8(ascii: "'"): entity = "&#39;"
                default: continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                output.append(contentsOf: UnsafeBufferPointer(start: entity.utf8Start, count: entity.utf8CodeUnitCount))
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
    }

    static func htmlEscaped(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 16)
        appendHTMLEscaped(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// UTF-8 percent-encoding of everything but `A–Z a–z 0–9 - . _ ~` (RFC 3986 §2.3).
    static func percentEncoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigit(byte >> 4))
                bytes.append(hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
