/// A bounded map that evicts the least recently used entry: a dictionary of nodes in a doubly linked list,
/// so every operation is O(1).
struct LeastRecentlyUsed<Key: Hashable, Value> {
    private struct Node {
        var value: Value
        var newer: Key?
        var older: Key?
    }

    private var nodes: [Key: Node] = [:]
    private var newest: Key?
    private var oldest: Key?

    var count: Int { nodes.count }

    /// Reads and marks as recently used. The node moves to the front where it is stored: taking it out of the
    /// dictionary and putting it back would hash its key twice more and copy its value twice.
    subscript(key: Key) -> Value? {
        mutating get {
            guard let node = nodes[key] else { return nil }
            if let newer = node.newer {
                nodes[newer]?.older = node.older
                if let older = node.older { nodes[older]?.newer = newer } else { oldest = newer }
                if let newest { nodes[newest]?.newer = key }
                nodes[key]?.newer = nil
                nodes[key]?.older = newest
                newest = key
            }
            return node.value
        }
    }

    /// Changes a present value where it is stored, without touching the order: a value read out and written
    /// back would be copied whole by the first change to anything it shares with the stored one. Returns whether
    /// the key was present.
    @discardableResult
    mutating func update(_ key: Key, _ change: (inout Value) -> Void) -> Bool {
        // Found by index: `nodes[key] != nil` would copy the node out (and retain all it holds) to compare it.
        guard let index = nodes.index(forKey: key) else { return false }
        change(&nodes.values[index].value)
        return true
    }

    mutating func set(_ key: Key, _ value: Value, capacity: Int) {
        if nodes[key] != nil { unlink(key) }
        link(key, value)
        while nodes.count > capacity, let victim = oldest {
            unlink(victim)
        }
    }

    mutating func remove(_ key: Key) {
        if nodes[key] != nil { unlink(key) }
    }

    private mutating func link(_ key: Key, _ value: Value) {
        nodes[key] = Node(value: value, newer: nil, older: newest)
        if let newest { nodes[newest]?.newer = key }
        newest = key
        if oldest == nil { oldest = key }
    }

    private mutating func unlink(_ key: Key) {
        guard let node = nodes.removeValue(forKey: key) else { return }
        if let newer = node.newer { nodes[newer]?.older = node.older } else { newest = node.older }
        if let older = node.older { nodes[older]?.newer = node.newer } else { oldest = node.newer }
    }
}
