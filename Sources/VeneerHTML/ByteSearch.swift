import CLibXML2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain byte searches over a page, forward and backward.
///
/// A needle of two or more bytes is found with a 16-byte vector filter on its first, middle and
/// last byte, then a compare of the candidates (the "generic SIMD" substring search described by
/// Wojciech Muła, http://0x80.pl/articles/simd-strfind.html). glibc 2.36's memmem spends about
/// eight instructions a byte on a two-byte needle and three on a short one; this about 0.6,
/// which matters because the pre-check and the early stop scan a page before every first parse.
/// A single byte goes to memchr/memrchr (vectorized in glibc, about 0.1 a byte).
enum ByteSearch {
    /// The first offset of `needle` in `haystack[from...]`.
    static func first(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int = 0) -> Int? {
        needle.withUnsafeBufferPointer { first($0, in: haystack, from: start) }
    }

    /// The last offset of `needle` in `haystack`, if one is at or after `floor` (the bytes before
    /// it are not read).
    static func last(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, notBefore floor: Int = 0) -> Int? {
        needle.withUnsafeBufferPointer { last($0, in: haystack, notBefore: floor) }
    }

    static func first(
        _ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>, from start: Int
    ) -> Int? {
        let length = needle.count
        guard length > 0, let base = haystack.baseAddress, let pattern = needle.baseAddress, start >= 0,
            start + length <= haystack.count
        else { return nil }
        if length == 1 {
            guard let found = memchr(base + start, Int32(pattern[0]), haystack.count - start) else { return nil }
            return UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
        let filter = Filter(pattern, length)
        let raw = UnsafeRawPointer(base)
        // Blocks of 32 candidate starts while their last bytes are in bounds, then 16, then one.
        var index = start
        let lastStart = haystack.count &- length
        while index &+ 31 <= lastStart {
            if filter.any32(raw, index) {
                if let found = filter.firstMatch(raw, index, pattern, length) { return found }
                if let found = filter.firstMatch(raw, index &+ 16, pattern, length) { return found }
            }
            index &+= 32
        }
        while index &+ 15 <= lastStart {
            if let found = filter.firstMatch(raw, index, pattern, length) { return found }
            index &+= 16
        }
        while index <= lastStart {
            if base[index] == pattern[0], memcmp(base + index, pattern, length) == 0 { return index }
            index &+= 1
        }
        return nil
    }

    static func last(
        _ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>, notBefore floor: Int
    ) -> Int? {
        let length = needle.count
        let floor = max(0, floor)
        guard length > 0, let base = haystack.baseAddress, let pattern = needle.baseAddress,
            floor + length <= haystack.count
        else {
            return nil
        }
        if length == 1 {
            guard let found = memrchr(base + floor, Int32(pattern[0]), haystack.count - floor) else { return nil }
            return UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
        let filter = Filter(pattern, length)
        let raw = UnsafeRawPointer(base)
        // `limit` is one past the last start still to test.
        var limit = haystack.count &- length &+ 1
        while limit &- 32 >= floor {
            let index = limit &- 32
            if filter.any32(raw, index) {
                if let found = filter.lastMatch(raw, index &+ 16, pattern, length) { return found }
                if let found = filter.lastMatch(raw, index, pattern, length) { return found }
            }
            limit = index
        }
        while limit &- 16 >= floor {
            let index = limit &- 16
            if let found = filter.lastMatch(raw, index, pattern, length) { return found }
            limit = index
        }
        while limit > floor {
            limit &-= 1
            if base[limit] == pattern[0], memcmp(base + limit, pattern, length) == 0 { return limit }
        }
        return nil
    }

    /// The first, middle and last byte of a needle, 16 copies each. Two bytes would let through
    /// too much: `cta` tested on its `c` and `a` stops at every `class`.
    private struct Filter {
        let firstByte: SIMD16<UInt8>
        let middleByte: SIMD16<UInt8>
        let lastByte: SIMD16<UInt8>
        let middleOffset: Int
        let tailOffset: Int

        init(_ pattern: UnsafePointer<UInt8>, _ length: Int) {
            firstByte = SIMD16(repeating: pattern[0])
            middleOffset = length / 2
            middleByte = SIMD16(repeating: pattern[length / 2])
            lastByte = SIMD16(repeating: pattern[length - 1])
            tailOffset = length - 1
        }

        /// The starts `index..<index + 16` whose first, middle and last bytes fit: byte `i` of the
        /// two words (little-endian) is 0xFF for start `index + i`.
        @inline(__always)
        func candidates(_ raw: UnsafeRawPointer, _ index: Int) -> SIMD2<UInt64> {
            let heads = raw.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self)
            let middles = raw.loadUnaligned(fromByteOffset: index &+ middleOffset, as: SIMD16<UInt8>.self)
            let tails = raw.loadUnaligned(fromByteOffset: index &+ tailOffset, as: SIMD16<UInt8>.self)
            // A bit cast, not `any(_:)`: the standard library's reduction is a generic call.
            return unsafeBitCast(
                (heads .== firstByte) .& (middles .== middleByte) .& (tails .== lastByte), to: SIMD2<UInt64>.self)
        }

        @inline(__always)
        func any32(_ raw: UnsafeRawPointer, _ index: Int) -> Bool {
            let both = candidates(raw, index) | candidates(raw, index &+ 16)
            return both[0] | both[1] != 0
        }

        @inline(__always)
        func firstMatch(_ raw: UnsafeRawPointer, _ index: Int, _ pattern: UnsafePointer<UInt8>, _ length: Int) -> Int? {
            let mask = candidates(raw, index)
            for word in 0..<2 {
                var lanes = mask[word]
                while lanes != 0 {
                    let byte = lanes.trailingZeroBitCount >> 3
                    let lane = word &* 8 &+ byte
                    if memcmp(raw + (index &+ lane), pattern, length) == 0 { return index &+ lane }
                    lanes &= ~(UInt64(0xFF) << UInt64(byte &* 8))
                }
            }
            return nil
        }

        @inline(__always)
        func lastMatch(_ raw: UnsafeRawPointer, _ index: Int, _ pattern: UnsafePointer<UInt8>, _ length: Int) -> Int? {
            let mask = candidates(raw, index)
            for word in stride(from: 1, through: 0, by: -1) {
                var lanes = mask[word]
                while lanes != 0 {
                    let byte = 7 &- lanes.leadingZeroBitCount >> 3
                    let lane = word &* 8 &+ byte
                    if memcmp(raw + (index &+ lane), pattern, length) == 0 { return index &+ lane }
                    lanes &= ~(UInt64(0xFF) << UInt64(byte &* 8))
                }
            }
            return nil
        }
    }
}
