import VeneerCore

/// A page the rewriter parsed before whose first block matches the first bytes of a response now arriving: what
/// lets the proxy send the rewritten page while the rest of it is still coming (`PageStream`).
///
/// The prediction holds until the bytes say otherwise. Each block of the response is compared, by hash, with the
/// same block of the page parsed before. The selectors Veneer supports look only at an element's ancestors, its
/// earlier siblings and its own start tag, so the edits found in a prefix that matches stay right for any page
/// that starts with that prefix.
///
/// ```swift
/// if let prediction = rewriter.predict(firstBytes, contentTypeCharset: "utf-8", changes: changes) {
///     var stream = PageStream(prediction)
///     // stream.advance(received, complete: false) as bytes arrive
/// }
/// ```
public struct PagePrediction: Sendable {
    /// Bytes per compared block; a response shorter than one block is rewritten whole.
    public static let blockSize = 4096

    /// The predicted page's length.
    public let length: Int
    let blockHashes: [UInt64]
    let charset: PageCharset
    let scan: ScanResult
    let changes: [RenderedChange]
    let selectorIndex: [Int]
    /// No edit starts before this offset: the first matched element's start tag.
    let firstElementStart: Int
    /// The edits can be worked out once the bytes up to this offset are known (and one more, so that an element
    /// that ends at the last byte known is checked against the byte after it): the end of the last matched element.
    let editHorizon: Int

    init(entry: PagePredictions.Entry, changes: [RenderedChange], selectorIndex: [Int]) {
        self.length = entry.length
        self.blockHashes = entry.blockHashes
        self.charset = entry.charset
        self.scan = entry.scan
        self.changes = changes
        self.selectorIndex = selectorIndex
        self.firstElementStart = entry.firstElementStart
        self.editHorizon = entry.editHorizon
    }

    /// The byte range of block `index` in the predicted page.
    func blockRange(_ index: Int) -> Range<Int> {
        let start = index * Self.blockSize
        return start..<min(start + Self.blockSize, length)
    }

    var blockCount: Int { blockHashes.count }

    static func blockHashes(_ page: UnsafeBufferPointer<UInt8>) -> [UInt64] {
        stride(from: 0, to: page.count, by: blockSize).map { start in
            BodyHash.hash(UnsafeBufferPointer(rebasing: page[start..<min(start + blockSize, page.count)]))
        }
    }

    /// The rewrite of the predicted page, from `prefix`: its first bytes, at least up to `editHorizon` (one more
    /// unless it is the whole page). The result's `output` is empty.
    func rewrite(prefix: UnsafeBufferPointer<UInt8>) -> RewriteResult {
        var splicer = PageSplicer(page: prefix, charset: charset)
        return splicer.apply(changes, selectorIndex: selectorIndex, scan: scan, buildsOutput: false)
    }
}
