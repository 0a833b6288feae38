/// The idle connections of one pool, by origin. A pool nearly always has one origin (more only for a while
/// after a reload changed it), so the lists are kept in a short array found by comparing keys, not in a
/// dictionary: hashing the key's host on every take and every release was about 4% of a pass-through
/// request's user-space CPU. A list that empties keeps its entry, and its storage, for the next release.
///
/// ```swift
/// var idle = IdleConnectionList<PassThroughOriginConnection>()
/// idle.append(connection, for: key)
/// let reused = idle.popLast(for: key)
/// ```
struct IdleConnectionList<Connection: AnyObject> {
    private var entries: [(key: OriginConnectionKey, connections: [Connection])] = []

    /// Every idle connection, of every origin.
    var all: [Connection] { entries.flatMap(\.connections) }

    var count: Int { entries.reduce(0) { $0 + $1.connections.count } }

    func count(for key: OriginConnectionKey) -> Int {
        guard let index = index(of: key) else { return 0 }
        return entries[index].connections.count
    }

    /// The most recently released connection to `key`, taken out of the list.
    mutating func popLast(for key: OriginConnectionKey) -> Connection? {
        guard let index = index(of: key) else { return nil }
        return entries[index].connections.popLast()
    }

    mutating func append(_ connection: Connection, for key: OriginConnectionKey) {
        if let index = index(of: key) {
            entries[index].connections.append(connection)
        } else {
            entries.append((key, [connection]))
        }
    }

    mutating func remove(_ connection: Connection, for key: OriginConnectionKey) {
        guard let index = index(of: key) else { return }
        entries[index].connections.removeAll { $0 === connection }
    }

    mutating func removeAll() {
        entries.removeAll()
    }

    private func index(of key: OriginConnectionKey) -> Int? {
        entries.firstIndex { $0.key == key }
    }
}
