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
