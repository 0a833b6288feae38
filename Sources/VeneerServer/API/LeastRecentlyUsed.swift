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

    /// Reads and marks as recently used.
    subscript(key: Key) -> Value? {
        mutating get {
            guard let node = nodes[key] else { return nil }
            unlink(key)
            link(key, node.value)
            return node.value
        }
    }

    /// Reads without touching the order.
    func peek(_ key: Key) -> Value? { nodes[key]?.value }

    /// Replaces a present value in place.
    mutating func replace(_ key: Key, _ value: Value) {
        nodes[key]?.value = value
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
