/// A fast 64-bit hash of a page body for the parse cache: four independent multiply-xorshift
/// lanes over 32-byte blocks, then the tail. Not cryptographic; a collision is also caught by the
/// length in the key and by re-checking every cached boundary against the bytes.
enum BodyHash {
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var lanes: (UInt64, UInt64, UInt64, UInt64) = (
            0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344, 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89
        )
        guard let base = bytes.baseAddress else { return 0 }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var index = 0
        @inline(__always) func mix(_ lane: UInt64, _ word: UInt64) -> UInt64 {
            let value = (lane ^ word) &* multiplier
            return value ^ (value >> 29)
        }
        while index + 32 <= count {
            lanes.0 = mix(lanes.0, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            lanes.1 = mix(lanes.1, raw.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self))
            lanes.2 = mix(lanes.2, raw.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self))
            lanes.3 = mix(lanes.3, raw.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self))
            index += 32
        }
        while index + 8 <= count {
            lanes.0 = mix(lanes.0, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(base[index]) << shift
            shift += 8
            index += 1
        }
        lanes.1 = mix(lanes.1, tail ^ UInt64(count))
        var result = mix(lanes.0, lanes.1 &+ 0x5851_F42D_4C95_7F2D)
        result = mix(result, lanes.2)
        result = mix(result, lanes.3)
        return result ^ (result >> 32)
    }
}
