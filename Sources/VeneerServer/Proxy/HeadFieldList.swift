/// How the head scans reuse one field list per connection instead of allocating one per head: the list is taken
/// empty with its room kept, and given back after the scan (the caller lets go of the scan's result first). A
/// list grown past `reusableCapacity` is not given back: a connection that once sent a head of thousands of fields
/// would otherwise hold their storage for as long as it stays open.
///
/// ```swift
/// var request = PassThroughRequest()
/// request.fields = HeadFieldList.take(from: &storage)
/// defer { HeadFieldList.giveBack(request.fields, to: &storage) }
/// ```
enum HeadFieldList {
    /// The most fields a reused list keeps room for between heads.
    static let reusableCapacity = 64

    /// `storage`'s list, emptied, with room for at least 16 fields; `storage` is left empty.
    static func take<Field>(from storage: inout [Field]) -> [Field] {
        var fields: [Field] = []
        swap(&fields, &storage)
        fields.removeAll(keepingCapacity: true)
        fields.reserveCapacity(16)
        return fields
    }

    /// Keeps `fields`' storage in `storage` for the next head, unless it grew past `reusableCapacity`.
    static func giveBack<Field>(_ fields: [Field], to storage: inout [Field]) {
        if fields.capacity <= reusableCapacity { storage = fields }
    }
}
