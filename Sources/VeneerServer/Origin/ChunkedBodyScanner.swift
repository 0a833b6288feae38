/// Finds where a chunked body ends (RFC 9112 §7.1) in bytes that arrive in pieces, without copying them:
/// the pass-through path forwards the chunks as they are and needs only to know when the response is over.
/// Strict: a bare LF, a missing CRLF after a chunk or a size that is not hex ends the connection instead
/// of guessing, since a client reading the same bytes another way would see a different response.
///
/// ```swift
/// var scanner = ChunkedBodyScanner()
/// let end = try scanner.scan(bytes)  // nil: the body goes on after these bytes
/// ```
struct ChunkedBodyScanner: Equatable {
    enum State: Equatable {
        case sizeStart
        case size(Int)
        case sizeExtension(Int)
        case sizeLineFeed(Int)
        case data(Int)
        case dataCarriageReturn
        case dataLineFeed
        case trailerLineStart
        case trailerName
        case trailerValue
        case trailerLineFeed
        case finalLineFeed
        case done
    }

    struct Malformed: Error, Equatable {
        var reason: String
    }

    private(set) var state = State.sizeStart

    /// Chunk sizes above this are refused (no body of 2^56 bytes is real; it keeps the sum from overflowing).
    static let maximumChunkSize = 1 << 56

    /// Reads `bytes`, which continue the body; returns how many of them belong to it when the body ends among
    /// them, or nil when all do and more is to come.
    mutating func scan(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch state {
            case .sizeStart:
                guard let digit = Self.hexValue(byte) else { throw Malformed(reason: "a chunk size that is not hex") }
                state = .size(digit)
            case .size(let size):
                if let digit = Self.hexValue(byte) {
                    guard size < Self.maximumChunkSize >> 4 else { throw Malformed(reason: "a chunk over 2^56 bytes") }
                    state = .size(size << 4 | digit)
                } else if byte == UInt8(ascii: ";") || byte == 0x20 || byte == 0x09 {
                    state = .sizeExtension(size)
                } else if byte == 0x0D {
                    state = .sizeLineFeed(size)
                } else {
                    throw Malformed(reason: "a chunk size line with an unexpected byte")
                }
            case .sizeExtension(let size):
                if byte == 0x0D {
                    state = .sizeLineFeed(size)
                } else if !HTTPSyntax.isFieldValueByte(byte) {
                    throw Malformed(reason: "a control byte in a chunk extension")
                }
            case .sizeLineFeed(let size):
                guard byte == 0x0A else { throw Malformed(reason: "a chunk size line without CRLF") }
                state = size == 0 ? .trailerLineStart : .data(size)
            case .data(let remaining):
                let taken = min(remaining, count - index)
                index += taken
                state = taken == remaining ? .dataCarriageReturn : .data(remaining - taken)
                continue
            case .dataCarriageReturn:
                guard byte == 0x0D else { throw Malformed(reason: "a chunk longer than its size") }
                state = .dataLineFeed
            case .dataLineFeed:
                guard byte == 0x0A else { throw Malformed(reason: "a chunk without CRLF after it") }
                state = .sizeStart
            case .trailerLineStart:
                if byte == 0x0D {
                    state = .finalLineFeed
                } else if HTTPSyntax.isTokenByte(byte) {
                    state = .trailerName
                } else {
                    throw Malformed(reason: "a trailer line that is not a field")
                }
            case .trailerName:
                // `name:` exactly, as in a head: a line that is not a field (the next response, say) is not a
                // trailer a client would read.
                if byte == UInt8(ascii: ":") {
                    state = .trailerValue
                } else if !HTTPSyntax.isTokenByte(byte) {
                    throw Malformed(reason: "a trailer line that is not a field")
                }
            case .trailerValue:
                if byte == 0x0D {
                    state = .trailerLineFeed
                } else if !HTTPSyntax.isFieldValueByte(byte) {
                    throw Malformed(reason: "a control byte in a trailer field")
                }
            case .trailerLineFeed:
                guard byte == 0x0A else { throw Malformed(reason: "a trailer line without CRLF") }
                state = .trailerLineStart
            case .finalLineFeed:
                guard byte == 0x0A else { throw Malformed(reason: "a chunked body without its final CRLF") }
                state = .done
                return index + 1
            case .done:
                return index
            }
            index += 1
        }
        return state == .done ? count : nil
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
