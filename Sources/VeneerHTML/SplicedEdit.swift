/// An input byte range replaced by new bytes (an insertion has an empty range).
public struct SplicedEdit: Sendable, Hashable {
    public var range: Range<Int>
    public var replacement: [UInt8]
    /// The index of the change (in the list given to `rewrite`) that made it.
    public var changeIndex: Int
}
