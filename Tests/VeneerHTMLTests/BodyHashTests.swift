import Testing

@testable import VeneerHTML

/// The parse cache's body hash: a page that changed anywhere, by one bit or by moving a block, must miss.
@Suite("Body hash")
struct BodyHashTests {
    /// A page-sized body with no repeating pattern (a fixed linear congruential sequence).
    static func body(count: Int) -> [UInt8] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { BodyHash.hash($0) }
    }

    @Test("the same bytes give the same hash; every length from 0 to 200 gives another")
    func lengths() {
        let page = Self.body(count: 200)
        var seen = Set<UInt64>()
        for length in 0...200 {
            let prefix = Array(page.prefix(length))
            #expect(Self.hash(prefix) == Self.hash(Array(prefix)))
            #expect(seen.insert(Self.hash(prefix)).inserted, "length \(length)")
        }
        // Zeros of different lengths: only the length tells them apart.
        #expect(Self.hash([UInt8](repeating: 0, count: 64)) != Self.hash([UInt8](repeating: 0, count: 72)))
    }

    @Test("one bit flipped anywhere in a 100 KB body, in the 64-byte blocks or the tail, changes the hash")
    func singleBitFlips() {
        let page = Self.body(count: 100_003)
        let original = Self.hash(page)
        var seen: Set<UInt64> = [original]
        // Every byte of the first blocks and of the tail, and a spread of places between, each bit of them.
        let places = Array(0..<192) + Array(stride(from: 192, to: 99_900, by: 997)) + Array(99_900..<100_003)
        for place in places {
            for bit in 0..<8 {
                var changed = page
                changed[place] ^= 1 << bit
                #expect(seen.insert(Self.hash(changed)).inserted, "byte \(place), bit \(bit)")
            }
        }
    }

    @Test("two 64-byte blocks swapped, or one block moved, change the hash")
    func movedBlocks() {
        let page = Self.body(count: 64 * 40)
        let original = Self.hash(page)
        for (first, second) in [(0, 1), (3, 17), (38, 39), (0, 39)] {
            var swapped = page
            let a = first * 64..<(first + 1) * 64
            let b = second * 64..<(second + 1) * 64
            swapped.replaceSubrange(a, with: page[b])
            swapped.replaceSubrange(b, with: page[a])
            #expect(Self.hash(swapped) != original, "blocks \(first) and \(second) swapped")
        }
        // The same blocks in other orders: equal words in other places must count differently.
        let block = Array(page.prefix(64))
        let other = Array(page[64..<128])
        #expect(Self.hash(block + other + block) != Self.hash(block + block + other))
        #expect(Self.hash(block + other + block + other) != Self.hash(other + block + other + block))
    }
}
