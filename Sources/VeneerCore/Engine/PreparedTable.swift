/// An immutable copy of an array, laid out once per configuration and read through its base address, so the
/// engine's per-request loops neither bounds-check nor retain an array buffer. `EngineTables` owns every
/// table and frees it in its `deinit`; nothing else holds one beyond a `choose` call on a live engine.
struct PreparedTable<Element> {
    let elements: UnsafeMutableBufferPointer<Element>

    init(_ array: [Element]) {
        // At least one element's room, so that even an empty table has a base address to read from.
        let base = UnsafeMutablePointer<Element>.allocate(capacity: max(array.count, 1))
        elements = UnsafeMutableBufferPointer(start: base, count: array.count)
        _ = elements.initialize(fromContentsOf: array)
    }

    var count: Int { elements.count }

    /// Reads in place: a caller that reads one field of an element copies only that field.
    subscript(index: Int) -> Element {
        unsafeAddress { UnsafePointer(elements.baseAddress.unsafelyUnwrapped + index) }
    }

    /// Only for the owner's `deinit`.
    func free() {
        elements.deinitialize()
        elements.deallocate()
    }
}

// Read-only after `init`, and freed only once no reader can remain (see `EngineTables`).
extension PreparedTable: @unchecked Sendable where Element: Sendable {}
