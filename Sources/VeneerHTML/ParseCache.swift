/// A bounded map from (body hash, length, charset, selector list) to what the parse found.
/// Least recently used entries go first; eviction scans the entries, which at a few hundred costs
/// far less than the parse it saves.
struct ParseCache: ~Copyable {
    struct Key: Hashable {
        var hash: UInt64
        var length: Int
        var charset: PageCharset
        var selectors: [String]
    }

    private var entries: [Key: (result: ScanResult, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    /// `countingMiss: false` for a look that will be followed by the parse and a counted look.
    mutating func lookup(_ key: Key, countingMiss: Bool = true) -> ScanResult? {
        clock += 1
        guard let entry = entries[key] else {
            if countingMiss { misses += 1 }
            return nil
        }
        hits += 1
        entries[key]!.lastUse = clock
        return entry.result
    }

    mutating func insert(_ result: ScanResult, for key: Key) {
        guard capacity > 0 else { return }
        clock += 1
        if entries[key] == nil, entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            entries.removeValue(forKey: oldest)
        }
        entries[key] = (result, clock)
    }
}
