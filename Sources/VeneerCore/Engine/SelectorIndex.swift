/// Finds the optimizations of a selector, for matching a profile's exposure history and sticky assignments
/// to optimizations once per `choose` call (a pass over the few selectors the visitor has, rather than two
/// `String`-keyed dictionary lookups per optimization).
///
/// ASCII selectors (all that `proxy.conf` allows) are found by FNV-1a and open addressing, without
/// `Hasher`; any other key, or any configuration with a non-ASCII selector, goes through a `Dictionary`,
/// so matching is exactly `String` equality either way.
///
/// ```swift
/// let index = SelectorIndex(selectors: ["hero", "cta"])
/// index.first(of: "cta")  // 1
/// ```
struct SelectorIndex: Sendable {
    /// First optimization index of each selector by hash, -1 when empty; the count is a power of two.
    private let buckets: [Int32]
    /// The next optimization with the same selector, -1 at the end.
    let next: [Int32]
    private let selectors: [String]
    private let dictionary: [String: Int32]
    private let allASCII: Bool

    init(selectors: [String]) {
        self.selectors = selectors
        var next = [Int32](repeating: -1, count: selectors.count)
        var dictionary: [String: Int32] = [:]
        var last: [String: Int32] = [:]
        for (index, selector) in selectors.enumerated() {
            if let previous = last[selector] {
                next[Int(previous)] = Int32(index)
            } else {
                dictionary[selector] = Int32(index)
            }
            last[selector] = Int32(index)
        }
        self.next = next
        self.dictionary = dictionary
        allASCII = selectors.allSatisfy { Self.asciiHash($0) != nil }
        var capacity = 8
        while capacity < dictionary.count * 2 { capacity *= 2 }
        var buckets = [Int32](repeating: -1, count: capacity)
        if allASCII {
            for (selector, index) in dictionary {
                var bucket = Int(Self.asciiHash(selector)!) & (capacity - 1)
                while buckets[bucket] >= 0 { bucket = (bucket + 1) & (capacity - 1) }
                buckets[bucket] = index
            }
        }
        self.buckets = buckets
    }

    /// The first optimization with this selector, or -1.
    func first(of key: String) -> Int32 {
        guard allASCII, let hash = Self.asciiHash(key) else { return dictionary[key] ?? -1 }
        let mask = buckets.count - 1
        var bucket = Int(hash) & mask
        while true {
            let index = buckets[bucket]
            if index < 0 || selectors[Int(index)] == key { return index }
            bucket = (bucket + 1) & mask
        }
    }

    /// FNV-1a over the UTF-8 bytes; nil when a byte is not ASCII.
    private static func asciiHash(_ text: String) -> UInt32? {
        var text = text
        return text.withUTF8 { bytes in
            var hash = Bucketing.fnvOffsetBasis
            var seen: UInt8 = 0
            for byte in bytes {
                seen |= byte
                hash ^= UInt32(byte)
                hash = hash &* Bucketing.fnvPrime
            }
            return seen < 0x80 ? hash : nil
        }
    }
}
