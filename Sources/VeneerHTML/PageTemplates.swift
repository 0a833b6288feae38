/// A bounded set of recently parsed pages (`PageTemplate`), looked through on a parse-cache miss for one the
/// new page differs from only in words. Least recently used templates go first.
struct PageTemplates: ~Copyable {
    struct Key: Hashable {
        var charset: PageCharset
        var selectors: [String]
    }

    private var entries: [(key: Key, template: PageTemplate, id: UInt64, lastUse: UInt64)] = []
    private var clock: UInt64 = 0
    private var nextId: UInt64 = 0
    let capacity: Int
    private(set) var derived = 0

    /// Templates tried per page: a route that serves many different pages should not cost a comparison
    /// with each of them.
    static let triesPerPage = 4
    /// A fresh token changes a page's length by a little; a page much longer or shorter is another page.
    static let maximumLengthChange = 4096

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }

    /// The templates worth comparing `length` bytes of a page with, most recently used first.
    func candidates(for key: Key, length: Int) -> [(id: UInt64, template: PageTemplate)] {
        entries.filter { $0.key == key && abs($0.template.bytes.count - length) <= Self.maximumLengthChange }
            .sorted { $0.lastUse > $1.lastUse }.prefix(Self.triesPerPage).map { ($0.id, $0.template) }
    }

    /// Notes that the template `id` answered a page.
    mutating func used(_ id: UInt64) {
        clock += 1
        derived += 1
        if let index = entries.firstIndex(where: { $0.id == id }) { entries[index].lastUse = clock }
    }

    mutating func insert(_ template: PageTemplate, for key: Key) {
        guard capacity > 0 else { return }
        clock += 1
        // Requests that arrive together may parse the same new page each: keep it once.
        if let index = entries.firstIndex(where: { $0.key == key && $0.template.bytes == template.bytes }) {
            entries[index].lastUse = clock
            return
        }
        if entries.count >= capacity,
            let oldest = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse })
        {
            entries.remove(at: oldest)
        }
        nextId += 1
        entries.append((key, template, nextId, clock))
    }
}
