/// A fast 64-bit hash of a page body for the parse cache. Not cryptographic; a collision is also caught by the
/// length in the key and by re-checking every cached boundary against the bytes.
///
/// The body is read 64 bytes at a time into eight lanes, in the manner of XXH3's accumulate step
/// (https://github.com/Cyan4973/xxHash, doc/xxhash_spec.md): each 64-bit word is mixed with a key, its two 32-bit
/// halves are multiplied, and the product and the word are added to the lane. That is one 32×32-bit multiply per
/// word, which the compiler does two or four words at a time (`pmuludq`): about twice as fast as a 64-bit multiply
/// chain per word, the earlier way, on a 100 KB page. The key moves on with every 64 bytes, so the same bytes in
/// another place add something else. The lanes, the last bytes and the length are then mixed into one value.
///
/// ```swift
/// let key = bytes.withUnsafeBufferPointer { BodyHash.hash($0) }
/// ```
enum BodyHash {
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = bytes.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var lanes: SIMD8<UInt64> = [
            0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89,
            0x4528_21E6_38D0_1377, 0xBE54_66CF_34E9_0C6C, 0xC0AC_29B7_C97C_50DD, 0x3F84_D5B5_B547_0917,
        ]
        var key: SIMD8<UInt64> = [
            0xBE4B_A423_396C_FEB8, 0x1CAD_21F7_2C81_017C, 0xDB97_9083_E96D_D4DE, 0x1F67_B3B7_A4A4_4072,
            0x78E5_C0CC_4EE6_79CB, 0x2172_FFCC_7DD0_5A82, 0x8E24_43F7_7446_08B8, 0x4C26_3A81_E690_35E0,
        ]
        let keyStep = SIMD8<UInt64>(repeating: multiplier)
        let lowHalf = SIMD8<UInt64>(repeating: 0xFFFF_FFFF)
        var index = 0
        while index + 64 <= count {
            let words = SIMD8<UInt64>(
                raw.loadUnaligned(fromByteOffset: index, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 32, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 40, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 48, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: index + 56, as: UInt64.self))
            let keyed = words ^ key
            lanes &+= (keyed & lowHalf) &* (keyed &>> 32)
            lanes &+= words
            key &+= keyStep
            index += 64
        }
        var result = UInt64(count) &* multiplier
        for lane in 0..<8 { result = mix(result, lanes[lane]) }
        while index + 8 <= count {
            result = mix(result, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(base[index]) << shift
            shift += 8
            index += 1
        }
        result = mix(result, tail ^ (shift << 56))
        return result ^ (result >> 32)
    }

    @inline(__always) private static func mix(_ state: UInt64, _ word: UInt64) -> UInt64 {
        let value = (state ^ word) &* multiplier
        return value ^ (value >> 29)
    }
}
