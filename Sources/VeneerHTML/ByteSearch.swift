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

    /// The last offset of `needle` in `haystack`. A common needle is found quickly from the end;
    /// a rare one (an id) by forward memmem jumps from one occurrence to the next.
    static func last(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !needle.isEmpty, let base = haystack.baseAddress, needle.count <= haystack.count else { return nil }
        let lastByte = needle[needle.count - 1]
        var end = haystack.count
        var attempts = 0
        let fromTheEnd: Int?? = needle.withUnsafeBytes { needleBytes -> Int?? in
            while end >= needle.count, attempts < 64 {
                guard let found = memrchr(base, Int32(lastByte), end) else { return .some(nil) }
                let position = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                let start = position - needle.count + 1
                if start >= 0, memcmp(base + start, needleBytes.baseAddress!, needle.count) == 0 { return .some(start) }
                end = position
                attempts += 1
            }
            return end < needle.count ? .some(nil) : nil
        }
        if let fromTheEnd { return fromTheEnd }
        var last: Int?
        var start = 0
        while let found = first(needle, in: UnsafeBufferPointer(rebasing: haystack[..<end]), from: start) {
            last = found
            start = found + 1
        }
        return last
    }
}
