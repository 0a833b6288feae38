extension UInt64 {
    /// Calls `body` with the number's decimal digits as ASCII bytes, written on the stack: no `String` is made
    /// for a number that goes straight into a byte buffer (a JSON number, a `Content-Length`).
    ///
    /// ```swift
    /// var output: [UInt8] = []
    /// UInt64(1234).withDecimalDigits { output.append(contentsOf: $0) }  // "1234"
    /// ```
    public func withDecimalDigits<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        return withUnsafeMutableBytes(of: &digits) { buffer in
            var remaining = self
            var position = buffer.count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            return body(UnsafeRawBufferPointer(rebasing: buffer[position...]))
        }
    }
}
