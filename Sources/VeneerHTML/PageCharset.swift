/// The character encoding of a page, as far as the rewriter needs it: pages are UTF-8 or
/// windows-1252 (which WHATWG also uses for the `iso-8859-1` and `us-ascii` labels); anything
/// else passes through unchanged.
enum PageCharset: Sendable, Hashable {
    case utf8
    case windows1252

    /// Decides the encoding the way a browser does: byte order mark, then the Content-Type
    /// charset, then a `<meta>` in the first 1024 bytes, then "UTF-8 if it is valid UTF-8".
    /// Returns the reason as the failure when the page is in an encoding the rewriter cannot edit.
    static func detect(
        _ page: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?
    ) -> Result<PageCharset, Unsupported> {
        declared(page, contentTypeCharset: contentTypeCharset)
            ?? .success(UTF8Validation.isValid(page) ? .utf8 : .windows1252)
    }

    /// The encoding the page declares (byte order mark, Content-Type, or a `<meta>` in its first 1024 bytes), which
    /// its first bytes decide; nil when only reading the whole page could tell.
    static func declared(
        _ page: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?
    ) -> Result<PageCharset, Unsupported>? {
        if page.count >= 3, page[0] == 0xEF, page[1] == 0xBB, page[2] == 0xBF { return .success(.utf8) }
        if page.count >= 2, (page[0] == 0xFE && page[1] == 0xFF) || (page[0] == 0xFF && page[1] == 0xFE) {
            return .failure(Unsupported(label: "UTF-16"))
        }
        if let label = contentTypeCharset?.trimmingHTMLWhitespace(), !label.isEmpty {
            return charset(forLabel: label)
        }
        if let label = metaCharset(page) {
            // A meta tag saying UTF-16 in a page that is readable as ASCII means UTF-8 (WHATWG).
            if label.lowercased().hasPrefix("utf-16") { return .success(.utf8) }
            return charset(forLabel: label)
        }
        return nil
    }

    struct Unsupported: Error, Sendable {
        var label: String
    }

    static func charset(forLabel label: String) -> Result<PageCharset, Unsupported> {
        let normalized = label.lowercased().trimmingHTMLWhitespace()
        switch normalized {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8":
            return .success(.utf8)
        case "windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1",
            "iso_8859-1:1987", "iso-ir-100", "l1", "latin1", "csisolatin1", "ibm819", "cp819", "us-ascii",
            "ascii", "ansi_x3.4-1968", "windows1252":
            return .success(.windows1252)
        default:
            return .failure(Unsupported(label: label))
        }
    }

    /// The charset a `<meta charset>` or `<meta http-equiv="Content-Type" content="…; charset=…">`
    /// in the first 1024 bytes declares (a simplified WHATWG prescan).
    static func metaCharset(_ page: UnsafeBufferPointer<UInt8>) -> String? {
        let limit = min(page.count, 1024)
        var index = 0
        while index + 5 < limit {
            if page[index] == UInt8(ascii: "<"), asciiLowercased(page[index + 1]) == UInt8(ascii: "m"),
                asciiLowercased(page[index + 2]) == UInt8(ascii: "e"),
                asciiLowercased(page[index + 3]) == UInt8(ascii: "t"),
                asciiLowercased(page[index + 4]) == UInt8(ascii: "a")
            {
                var end = index + 5
                while end < page.count, page[end] != UInt8(ascii: ">") { end += 1 }
                if let label = charsetParameter(in: page, from: index + 5, to: end) { return label }
                index = end
            }
            index += 1
        }
        return nil
    }

    private static func charsetParameter(in page: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> String? {
        let needle = Array("charset".utf8)
        var index = start
        while index + needle.count < end {
            var found = true
            for offset in 0..<needle.count where asciiLowercased(page[index + offset]) != needle[offset] {
                found = false
                break
            }
            if found {
                var cursor = index + needle.count
                while cursor < end, isHTMLWhitespace(page[cursor]) { cursor += 1 }
                guard cursor < end, page[cursor] == UInt8(ascii: "=") else {
                    index += 1
                    continue
                }
                cursor += 1
                while cursor < end,
                    isHTMLWhitespace(page[cursor]) || page[cursor] == UInt8(ascii: "\"")
                        || page[cursor] == UInt8(ascii: "'")
                {
                    cursor += 1
                }
                var valueEnd = cursor
                while valueEnd < end, !isHTMLWhitespace(page[valueEnd]), page[valueEnd] != UInt8(ascii: "\""),
                    page[valueEnd] != UInt8(ascii: "'"), page[valueEnd] != UInt8(ascii: ";"),
                    page[valueEnd] != UInt8(ascii: "/")
                {
                    valueEnd += 1
                }
                guard valueEnd > cursor, valueEnd - cursor < 64 else { return nil }
                return String(decoding: UnsafeBufferPointer(rebasing: page[cursor..<valueEnd]), as: UTF8.self)
            }
            index += 1
        }
        return nil
    }

    /// Encodes inserted text into the page's encoding; characters windows-1252 cannot hold become
    /// numeric character references.
    func encode(_ text: String) -> [UInt8] {
        switch self {
        case .utf8:
            return Array(text.utf8)
        case .windows1252:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars {
                if let byte = Windows1252.byte(for: scalar) {
                    bytes.append(byte)
                } else {
                    bytes.append(contentsOf: "&#\(scalar.value);".utf8)
                }
            }
            return bytes
        }
    }
}

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}

@inline(__always)
func isHTMLWhitespace(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
}

extension String {
    func trimmingHTMLWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.utf8.first, isHTMLWhitespace(first) { scalars = scalars.dropFirst() }
        while let last = scalars.utf8.last, isHTMLWhitespace(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
