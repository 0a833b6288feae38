import CLibXML2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain byte searches over a page (memmem does the forward work).
enum ByteSearch {
    /// The first offset of `needle` in `haystack[from...]`.
    static func first(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        guard !needle.isEmpty, let base = haystack.baseAddress, start < haystack.count else { return nil }
        return needle.withUnsafeBytes { needleBytes -> Int? in
            guard let found = memmem(base + start, haystack.count - start, needleBytes.baseAddress, needle.count) else { return nil }
            return UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
    }

    /// The last offset of `needle` in `haystack`: a backward scan for its last byte, then a compare.
    static func last(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !needle.isEmpty, let base = haystack.baseAddress, needle.count <= haystack.count else { return nil }
        let lastByte = needle[needle.count - 1]
        var end = haystack.count
        return needle.withUnsafeBytes { needleBytes -> Int? in
            while end >= needle.count {
                guard let found = memrchr(base, Int32(lastByte), end) else { return nil }
                let position = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                let start = position - needle.count + 1
                if start >= 0, memcmp(base + start, needleBytes.baseAddress!, needle.count) == 0 { return start }
                end = position
            }
            return nil
        }
    }
}
