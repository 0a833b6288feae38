/// A map of at most `capacity` entries that drops the least recently used one to make room. Eviction scans the
/// entries, which at a few hundred costs far less than the parse an entry saves.
///
/// ```swift
/// var map = LeastRecentlyUsedMap<String, Int>(capacity: 2)
/// map.insert(1, for: "a")
/// map.lookup("a")  // 1, and "a" is now the most recently used
/// ```
struct LeastRecentlyUsedMap<Key: Hashable, Value>: ~Copyable {
    private var entries: [Key: (value: Value, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    mutating func lookup(_ key: Key) -> Value? {
        clock += 1
        guard let found = entries[key] else { return nil }
        entries[key]!.lastUse = clock
        return found.value
    }

    /// Stores `value` for `key`, replacing what was there.
    mutating func insert(_ value: Value, for key: Key) {
        guard capacity > 0 else { return }
        clock += 1
        if entries[key] == nil, entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
        {
            entries.removeValue(forKey: oldest)
        }
        entries[key] = (value, clock)
    }
}
