/// The windows-1252 code page: bytes 0x80–0x9F differ from ISO-8859-1; the rest map to the same
/// code point. Source: WHATWG Encoding Standard, index-windows-1252.
enum Windows1252 {
    /// Code points of bytes 0x80…0x9F (0 where the byte is undefined and maps to the C1 control).
    static let high: [UInt32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D,
        0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D,
        0x017E, 0x0178,
    ]

    static func scalar(for byte: UInt8) -> UInt32 {
        (0x80...0x9F).contains(byte) ? high[Int(byte) - 0x80] : UInt32(byte)
    }

    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 0x80 || (value >= 0xA0 && value <= 0xFF) { return UInt8(value) }
        if let index = high.firstIndex(of: value) { return UInt8(0x80 + index) }
        return nil
    }
}
