/// A bounded map from (body hash, length, charset, selector list) to what the parse found; least recently used
/// entries go first.
struct ParseCache: ~Copyable {
    struct Key: Hashable {
        var hash: UInt64
        var length: Int
        var charset: PageCharset
        var selectors: [String]
    }

    private var entries: LeastRecentlyUsedMap<Key, ScanResult>
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.entries = LeastRecentlyUsedMap(capacity: capacity)
    }

    var count: Int { entries.count }

    /// A miss is counted by `insert`, when a parse fills it: a page answered without a parse (from a template,
    /// or left for the thread pool) is not one.
    mutating func lookup(_ key: Key) -> ScanResult? {
        guard let found = entries.lookup(key) else { return nil }
        hits += 1
        return found
    }

    /// Stores the parse of a page that was not in the cache.
    mutating func insert(_ result: ScanResult, for key: Key) {
        misses += 1
        entries.insert(result, for: key)
    }
}
