/// A bounded map that evicts the least recently used entry: a dictionary from key to slot, and the slots in a
/// doubly linked list held by index, so every operation is O(1) and hashes the key once.
///
/// ```swift
/// var views = LeastRecentlyUsed<String, Int>()
/// views.set("p:abc", 1, capacity: 1000)
/// let view = views["p:abc"]  // now the most recently used
/// ```
struct LeastRecentlyUsed<Key: Hashable, Value> {
    private struct Slot {
        /// Both nil while the slot is free, so that a removed entry keeps nothing alive.
        var key: Key?
        var value: Value?
        var newer: Int
        var older: Int
    }

    private static var none: Int { -1 }

    private var slots: [Slot] = []
    private var slotOfKey: [Key: Int] = [:]
    private var freeSlots: [Int] = []
    private var newest = none
    private var oldest = none

    var count: Int { slotOfKey.count }

    /// Reads and marks as recently used. The links are moved by index: the key is hashed once, where a list
    /// linked by key hashed it (and its neighbours') five times more.
    subscript(key: Key) -> Value? {
        mutating get {
            guard let slot = slotOfKey[key] else { return nil }
            moveToFront(slot)
            return slots[slot].value
        }
    }

    /// Changes a present value where it is stored, without touching the order: a value read out and written
    /// back would be copied whole by the first change to anything it shares with the stored one. Returns whether
    /// the key was present.
    @discardableResult
    mutating func update(_ key: Key, _ change: (inout Value) -> Void) -> Bool {
        guard let slot = slotOfKey[key] else { return false }
        change(&slots[slot].value!)
        return true
    }

    mutating func set(_ key: Key, _ value: Value, capacity: Int) {
        if let slot = slotOfKey[key] {
            slots[slot].value = value
            moveToFront(slot)
        } else {
            let entry = Slot(key: key, value: value, newer: Self.none, older: newest)
            let slot: Int
            if let free = freeSlots.popLast() {
                slots[free] = entry
                slot = free
            } else {
                slots.append(entry)
                slot = slots.count - 1
            }
            slotOfKey[key] = slot
            if newest != Self.none { slots[newest].newer = slot }
            newest = slot
            if oldest == Self.none { oldest = slot }
        }
        while slotOfKey.count > capacity, oldest != Self.none {
            free(oldest)
        }
    }

    mutating func remove(_ key: Key) {
        if let slot = slotOfKey[key] { free(slot) }
    }

    private mutating func unlink(_ slot: Int) {
        let newer = slots[slot].newer
        let older = slots[slot].older
        if newer != Self.none { slots[newer].older = older } else { newest = older }
        if older != Self.none { slots[older].newer = newer } else { oldest = newer }
    }

    private mutating func moveToFront(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        slots[slot].newer = Self.none
        slots[slot].older = newest
        // Not the newest, so the list holds another slot and `newest` is one.
        slots[newest].newer = slot
        newest = slot
    }

    private mutating func free(_ slot: Int) {
        unlink(slot)
        if let key = slots[slot].key { slotOfKey.removeValue(forKey: key) }
        slots[slot] = Slot(key: nil, value: nil, newer: Self.none, older: Self.none)
        freeSlots.append(slot)
    }
}
