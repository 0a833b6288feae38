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

    /// A miss is counted by `insert`, when a parse fills it: a page answered without a parse (from a template,
    /// or left for the thread pool) is not one.
    mutating func lookup(_ key: Key) -> ScanResult? {
        clock += 1
        guard let entry = entries[key] else { return nil }
        hits += 1
        entries[key]!.lastUse = clock
        return entry.result
    }

    /// Stores the parse of a page that was not in the cache.
    mutating func insert(_ result: ScanResult, for key: Key) {
        misses += 1
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
