import Testing
import VeneerCore

@Suite("Decimal digits without a String")
struct DecimalDigitsTests {
    @Test("the digits equal String's, at the edges and over random values")
    func digits() {
        var generator = SystemRandomNumberGenerator()
        let values: [UInt64] =
            [0, 1, 9, 10, 99, 100, 999_999_999_999_999, 1_000_000_000_000_000, UInt64.max - 1, UInt64.max]
            + (0..<1000).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) >> UInt64.random(in: 0..<64) }
        for value in values {
            let written = value.withDecimalDigits { String(decoding: $0, as: UTF8.self) }
            #expect(written == String(value))
        }
    }
}
