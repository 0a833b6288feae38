/// UTF-8 validation that skips ASCII eight bytes at a time, and the repair the parser needs.
enum UTF8Validation {
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        firstProblem(bytes, from: 0) == nil
    }

    /// The offset of the first byte that is NUL or not part of a well-formed UTF-8 sequence.
    static func firstProblem(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = start
        while index < count {
            // Fast paths: 32 (two 16-byte vectors), then 8 ASCII bytes without a NUL.
            let highBit = SIMD16<UInt8>(repeating: 0x80)
            let nul = SIMD16<UInt8>(repeating: 0)
            while index &+ 32 <= count {
                let raw = UnsafeRawPointer(base + index)
                let a = raw.loadUnaligned(fromByteOffset: 0, as: SIMD16<UInt8>.self)
                let b = raw.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
                let high = unsafeBitCast((a | b) & highBit, to: SIMD2<UInt64>.self)
                let zero = unsafeBitCast((a .== nul) .| (b .== nul), to: SIMD2<UInt64>.self)
                let problems = high | zero
                guard problems[0] | problems[1] == 0 else { break }
                index &+= 32
            }
            if index >= count { break }
            if index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let hasHigh = word & 0x8080_8080_8080_8080 != 0
                let hasZero = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080 != 0
                if !hasHigh && !hasZero {
                    index += 8
                    continue
                }
            }
            let byte = base[index]
            if byte == 0 { return index }
            if byte < 0x80 {
                index += 1
                continue
            }
            let length = sequenceLength(base, count, index)
            if length == 0 { return index }
            index += length
        }
        return nil
    }

    /// The length of the well-formed sequence at `index`, or 0.
    @inline(__always)
    static func sequenceLength(_ base: UnsafePointer<UInt8>, _ count: Int, _ index: Int) -> Int {
        let byte = base[index]
        func continuation(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + offset < count && base[index + offset] >= low && base[index + offset] <= high
        }
        switch byte {
        case 0xC2...0xDF: return continuation(1) ? 2 : 0
        case 0xE0: return continuation(1, 0xA0) && continuation(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE, 0xEF: return continuation(1) && continuation(2) ? 3 : 0
        case 0xED: return continuation(1, 0x80, 0x9F) && continuation(2) ? 3 : 0
        case 0xF0: return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF1...0xF3: return continuation(1) && continuation(2) && continuation(3) ? 4 : 0
        case 0xF4: return continuation(1, 0x80, 0x8F) && continuation(2) && continuation(3) ? 4 : 0
        default: return 0
        }
    }
}
