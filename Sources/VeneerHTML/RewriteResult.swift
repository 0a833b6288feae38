/// What `PageRewriter.rewrite` produced.
///
/// ```swift
/// let result = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
/// if result.changed { send(result.output) } else { send(page) }
/// for skip in result.skipped { log("\(skip.selector): \(skip.reason)") }
/// ```
public struct RewriteResult: Sendable {
    /// The page to send: the input bytes with the edits spliced in, or the input itself.
    public var output: [UInt8]
    /// How many changes were applied to at least one element.
    public var applied: Int
    /// Changes (or single elements of a change) not applied, with the reason.
    public var skipped: [SkippedChange]
    /// False when `output` is the input, unchanged.
    public var changed: Bool
    /// The input ranges that were replaced and by what, in page order (for tests and diagnostics).
    public var edits: [SplicedEdit]

    public init(output: [UInt8], applied: Int, skipped: [SkippedChange], changed: Bool, edits: [SplicedEdit] = []) {
        self.output = output
        self.applied = applied
        self.skipped = skipped
        self.changed = changed
        self.edits = edits
    }
}

/// One change (or one element of it) that was not applied.
public struct SkippedChange: Sendable, Hashable, CustomStringConvertible {
    /// The change's selector as written.
    public var selector: String
    public var reason: String

    public init(selector: String, reason: String) {
        self.selector = selector
        self.reason = reason
    }

    public var description: String { "\(selector): \(reason)" }
}

/// An input byte range replaced by new bytes (an insertion has an empty range).
public struct SplicedEdit: Sendable, Hashable {
    public var range: Range<Int>
    public var replacement: [UInt8]
    /// The index of the change (in the list given to `rewrite`) that made it.
    public var changeIndex: Int
}
