/// Where one element sits in the page bytes, every offset checked against the bytes.
///
/// `<div class="a">text</div>`: `startTagStart` at `<div`, `startTagEnd` after its `>`,
/// `contentEnd` at `</div>`, `end` after it. An element closed by what follows (`<li>` before
/// the next `<li>`) has `contentEnd == end` where that next tag begins; a void or self-closing
/// element has no content and `contentEnd == end == startTagEnd`.
struct ElementBoundary: Sendable, Hashable {
    var startTagStart: Int
    var startTagEnd: Int
    var contentEnd: Int
    var end: Int
    var hasContent: Bool

    var outer: Range<Int> { startTagStart..<end }
    var inner: Range<Int> { startTagEnd..<contentEnd }
    var startTag: Range<Int> { startTagStart..<startTagEnd }

    /// A cheap re-check against the bytes, for boundaries that come from the cache.
    func isConsistent(with bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard startTagStart < startTagEnd, startTagEnd <= contentEnd, contentEnd <= end, end <= bytes.count else { return false }
        guard bytes[startTagStart] == UInt8(ascii: "<"), bytes[startTagEnd - 1] == UInt8(ascii: ">") else { return false }
        if contentEnd < end {
            return bytes[contentEnd] == UInt8(ascii: "<") && contentEnd + 1 < end && bytes[contentEnd + 1] == UInt8(ascii: "/")
                && bytes[end - 1] == UInt8(ascii: ">")
        }
        return contentEnd == bytes.count || bytes[contentEnd] == UInt8(ascii: "<") || !hasContent
    }
}

/// What one parse found for a set of selectors, in page offsets.
struct ScanResult: Sendable {
    /// Per selector (in `SelectorProgram.selectors` order): the matching elements in document order.
    var elements: [[ElementBoundary]]
    /// Per selector: matching elements whose boundaries could not be verified, with the reason.
    var problems: [[String]]
    /// Set when the page could not be examined at all; every change is skipped with this reason.
    var failure: String?
    /// Whether the parse was skipped because no selector's fragments occur in the page.
    var skippedByPrecheck = false
    /// Whether the parser was stopped before the end because no later element can match.
    var stoppedEarly = false

    static func empty(_ selectorCount: Int) -> ScanResult {
        ScanResult(elements: Array(repeating: [], count: selectorCount), problems: Array(repeating: [], count: selectorCount))
    }
}
