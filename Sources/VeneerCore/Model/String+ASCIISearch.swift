extension String {
    /// Whether `needle` occurs in the text, answered by a byte search when both are ASCII and the needle is not
    /// empty; nil otherwise. Foundation's `contains` (a literal search that on Linux first bridges both strings
    /// to `NSString`) gives the same answer for ASCII, so callers fall back to it only on nil.
    ///
    /// ```swift
    /// "http://shop.test/checkout/12".asciiContains("/checkout/")  // true
    /// "café".asciiContains("é")                                   // nil: not ASCII
    /// ```
    func asciiContains(_ needle: String) -> Bool? {
        var text = self
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { wanted -> Bool? in
                guard let first = wanted.first, Self.isASCII(haystack), Self.isASCII(wanted) else { return nil }
                guard wanted.count <= haystack.count else { return false }
                var start = 0
                while start <= haystack.count - wanted.count {
                    if haystack[start] == first {
                        var matched = 1
                        while matched < wanted.count, haystack[start + matched] == wanted[matched] { matched += 1 }
                        if matched == wanted.count { return true }
                    }
                    start += 1
                }
                return false
            }
        }
    }

    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var seen: UInt8 = 0
        for byte in bytes { seen |= byte }
        return seen < 0x80
    }
}
