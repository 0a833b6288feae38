/// Byte-level pieces of the HTTP/1.1 grammar (RFC 9110 §5, RFC 9112 §2–3) for the pass-through path, which
/// reads heads in place instead of building `HTTPHeaders`. Offsets index the buffer being read.
enum HTTPSyntax {
    /// `tchar` (RFC 9110 §5.6.2) as two 64-bit masks, bytes 0–63 and 64–127: one shift and test per byte.
    private static let tokenMaskLow: UInt64 = 0x03ff_6cfa_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    static func isTokenByte(_ byte: UInt8) -> Bool {
        if byte < 64 { return tokenMaskLow & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return tokenMaskHigh & (1 << UInt64(byte - 64)) != 0 }
        return false
    }

    /// Field values: visible ASCII, space, tab and obs-text; never a control character or DEL.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// A control byte that no line of a head may hold anywhere (CR, LF and tab aside), nor DEL.
    static func isForbiddenInHead(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x0D && byte != 0x0A && byte != 0x09) || byte == 0x7F
    }

    /// The end of the token starting at `start` (`start` itself when there is none).
    static func tokenEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var index = start
        while index < end, isTokenByte(bytes[index]) { index += 1 }
        return index
    }

    static func matches(_ bytes: UnsafeRawBufferPointer, at start: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard start >= 0, start + count <= bytes.count else { return false }
        let expected = literal.utf8Start
        for offset in 0..<count where bytes[start + offset] != expected[offset] { return false }
        return true
    }

    /// ASCII case-insensitive equality of `range` with `lowercase` (lower-case letters, digits and `-`).
    static func equalsIgnoringCase(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString
    )
        -> Bool
    {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        var offset = 0
        for index in range {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") { byte += 32 }
            if byte != expected[offset] { return false }
            offset += 1
        }
        return true
    }

    /// A field line `name: value`: the name's range and the value's without surrounding spaces and tabs, or nil
    /// when the line is not exactly that (a space before the colon, an empty name, a control byte).
    static func field(_ bytes: UnsafeRawBufferPointer, line: Range<Int>) -> (name: Range<Int>, value: Range<Int>)? {
        let nameEnd = tokenEnd(bytes, from: line.lowerBound, to: line.upperBound)
        guard nameEnd > line.lowerBound, nameEnd < line.upperBound, bytes[nameEnd] == UInt8(ascii: ":") else {
            return nil
        }
        var valueStart = nameEnd + 1
        while valueStart < line.upperBound, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
        var valueEnd = line.upperBound
        while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 { valueEnd -= 1 }
        for index in valueStart..<valueEnd where !isFieldValueByte(bytes[index]) { return nil }
        return (line.lowerBound..<nameEnd, valueStart..<valueEnd)
    }

    /// A decimal length of 1 to 15 digits (no sign, no spaces inside), or nil.
    static func decimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 15 else { return nil }
        var value = 0
        for index in range {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// Reads a comma-separated `Connection` value: true when every token is `keep-alive` or `close`, with
    /// `close` set when one is `close`. Any other token names a field to remove, which the caller leaves
    /// to the codec path.
    static func connectionTokens(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>, close: inout Bool) -> Bool {
        var allKnown = true
        forEachListElement(bytes, value) { element in
            if equalsIgnoringCase(bytes, element, "close") {
                close = true
            } else if !equalsIgnoringCase(bytes, element, "keep-alive") {
                allKnown = false
            }
        }
        return allKnown
    }

    /// Calls `body` with each non-empty element of a comma-separated list, without surrounding spaces.
    static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer, _ value: Range<Int>, _ body: (Range<Int>) -> Void
    ) {
        var start = value.lowerBound
        while start <= value.upperBound {
            var end = start
            while end < value.upperBound, bytes[end] != UInt8(ascii: ",") { end += 1 }
            var elementStart = start
            var elementEnd = end
            while elementStart < elementEnd, bytes[elementStart] == 0x20 || bytes[elementStart] == 0x09 {
                elementStart += 1
            }
            while elementEnd > elementStart, bytes[elementEnd - 1] == 0x20 || bytes[elementEnd - 1] == 0x09 {
                elementEnd -= 1
            }
            if elementEnd > elementStart { body(elementStart..<elementEnd) }
            start = end + 1
        }
    }
}

/// Cuts a head into lines. Requests must end lines with CRLF; a response may use a bare LF, as origins
/// occasionally do and NIO's decoder accepts.
struct HeadLineReader {
    let bytes: UnsafeRawBufferPointer
    let limit: Int
    var allowsBareLineFeed = false
    /// Where the next line starts; after the empty line, the head's length.
    private(set) var position = 0
    /// A line broke the rules, or the head ran past `limit`.
    private(set) var isBroken = false
    /// A line ended with a bare LF, so lines cannot be copied as they are.
    private(set) var sawBareLineFeed = false

    init(bytes: UnsafeRawBufferPointer, limit: Int, allowsBareLineFeed: Bool = false) {
        self.bytes = bytes
        self.limit = limit
        self.allowsBareLineFeed = allowsBareLineFeed
    }

    /// The next line without its terminator; nil when the bytes end first (or `isBroken`).
    mutating func nextLine() -> Range<Int>? {
        guard !isBroken else { return nil }
        let end = min(bytes.count, limit)
        var index = position
        while index < end, bytes[index] != 0x0A { index += 1 }
        guard index < end else {
            if bytes.count >= limit { isBroken = true }
            return nil
        }
        var lineEnd = index
        if lineEnd > position, bytes[lineEnd - 1] == 0x0D {
            lineEnd -= 1
        } else if allowsBareLineFeed {
            sawBareLineFeed = true
        } else {
            isBroken = true
            return nil
        }
        // A CR elsewhere in the line is left to the grammar checks, which refuse it.
        let line = position..<lineEnd
        position = index + 1
        return line
    }
}

extension HTTPSyntax {
    /// ASCII case-insensitive equality of two ranges of the same buffer (a field name and a name that
    /// `Connection` lists).
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ first: Range<Int>, _ second: Range<Int>) -> Bool {
        guard first.count == second.count else { return false }
        for offset in 0..<first.count {
            var left = bytes[first.lowerBound + offset]
            var right = bytes[second.lowerBound + offset]
            if left >= UInt8(ascii: "A"), left <= UInt8(ascii: "Z") { left += 32 }
            if right >= UInt8(ascii: "A"), right <= UInt8(ascii: "Z") { right += 32 }
            if left != right { return false }
        }
        return true
    }
}

/// The field names the pass-through path acts on, recognized once per field line: lengths first, so almost
/// every field is settled by one comparison or none.
enum KnownFieldName {
    case te, host, expect, upgrade, trailer, connection, keepAlive, contentLength, forwardedFor, proxyConnection
    case forwardedHost, transferEncoding, forwardedProto, proxyAuthenticate, proxyAuthorization

    init?(_ bytes: UnsafeRawBufferPointer, name: Range<Int>) {
        switch name.count {
        case 2 where HTTPSyntax.equalsIgnoringCase(bytes, name, "te"): self = .te
        case 4 where HTTPSyntax.equalsIgnoringCase(bytes, name, "host"): self = .host
        case 6 where HTTPSyntax.equalsIgnoringCase(bytes, name, "expect"): self = .expect
        case 7 where HTTPSyntax.equalsIgnoringCase(bytes, name, "upgrade"): self = .upgrade
        case 7 where HTTPSyntax.equalsIgnoringCase(bytes, name, "trailer"): self = .trailer
        case 10 where HTTPSyntax.equalsIgnoringCase(bytes, name, "connection"): self = .connection
        case 10 where HTTPSyntax.equalsIgnoringCase(bytes, name, "keep-alive"): self = .keepAlive
        case 14 where HTTPSyntax.equalsIgnoringCase(bytes, name, "content-length"): self = .contentLength
        case 15 where HTTPSyntax.equalsIgnoringCase(bytes, name, "x-forwarded-for"): self = .forwardedFor
        case 16 where HTTPSyntax.equalsIgnoringCase(bytes, name, "proxy-connection"): self = .proxyConnection
        case 16 where HTTPSyntax.equalsIgnoringCase(bytes, name, "x-forwarded-host"): self = .forwardedHost
        case 17 where HTTPSyntax.equalsIgnoringCase(bytes, name, "transfer-encoding"): self = .transferEncoding
        case 17 where HTTPSyntax.equalsIgnoringCase(bytes, name, "x-forwarded-proto"): self = .forwardedProto
        case 18 where HTTPSyntax.equalsIgnoringCase(bytes, name, "proxy-authenticate"): self = .proxyAuthenticate
        case 19 where HTTPSyntax.equalsIgnoringCase(bytes, name, "proxy-authorization"): self = .proxyAuthorization
        default: return nil
        }
    }
}
