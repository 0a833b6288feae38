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
        guard startTagStart < startTagEnd, startTagEnd <= contentEnd, contentEnd <= end, end <= bytes.count else {
            return false
        }
        guard bytes[startTagStart] == UInt8(ascii: "<"), bytes[startTagEnd - 1] == UInt8(ascii: ">") else {
            return false
        }
        if contentEnd < end {
            return bytes[contentEnd] == UInt8(ascii: "<") && contentEnd + 1 < end
                && bytes[contentEnd + 1] == UInt8(ascii: "/")
                && bytes[end - 1] == UInt8(ascii: ">")
        }
        return contentEnd == bytes.count || bytes[contentEnd] == UInt8(ascii: "<") || !hasContent
    }
}
