import NIOCore
import VeneerCore

/// Writes a head that the pass-through path builds (the origin's request, the client's response head) into a
/// buffer's writable bytes in one pass. Each `ByteBuffer.write…` call checks the buffer's capacity and its
/// uniqueness (an exclusive access through the runtime) again; a head of a dozen pieces paid that a dozen times.
/// Every append checks the space it was given, so a wrong bound traps instead of writing past it.
///
/// ```swift
/// var buffer = ByteBuffer()
/// buffer.writeHead(maximumLength: 64) { out in
///     out.append("HTTP/1.1 204 No Content\r\n")
///     out.append("\r\n")
/// }
/// ```
struct HeadOutput {
    private let space: UnsafeMutableRawBufferPointer
    /// How many bytes were written.
    private(set) var count = 0

    init(_ space: UnsafeMutableRawBufferPointer) {
        self.space = space
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        precondition(bytes.count <= space.count - count, "a head longer than its bound")
        space.baseAddress!.advanced(by: count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func append(_ literal: StaticString) {
        // `withUTF8Buffer`, not `utf8Start`: a one-character literal may be stored as a scalar, not a pointer.
        literal.withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }

    /// A `String` (a labelled parameter: unlabelled, it would win over the `StaticString` overload for every
    /// literal, and each literal would become a `String` first).
    mutating func append(text: String) {
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if copied == nil { Array(text.utf8).withUnsafeBytes { append($0) } }
    }

    /// A non-negative number in decimal.
    mutating func append(decimal value: Int) {
        precondition(value >= 0, "a negative length")
        UInt64(value).withDecimalDigits { append($0) }
    }
}

extension ByteBuffer {
    /// Appends what `body` writes, at most `maximumLength` bytes, with one capacity check.
    mutating func writeHead(maximumLength: Int, _ body: (inout HeadOutput) -> Void) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: maximumLength) { space in
            var output = HeadOutput(UnsafeMutableRawBufferPointer(rebasing: space[..<maximumLength]))
            body(&output)
            return output.count
        }
    }
}
