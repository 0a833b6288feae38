/// What the rewriter learnt from whole pages, by their first block (with the Content-Type charset and the selector
/// list): each page's length, the hash of each of its blocks, and its parse. A page that starts the same way but
/// goes on differently replaces the entry; least recently used entries go first.
enum PagePredictions {
    struct Key: Hashable {
        var firstBlockHash: UInt64
        var contentTypeCharset: String?
        var selectors: [String]
    }

    struct Entry: Sendable {
        var length: Int
        var blockHashes: [UInt64]
        var charset: PageCharset
        var scan: ScanResult
        /// The first matched element's start, and the last one's end (the page's length and 0 when none matched).
        var firstElementStart: Int
        var editHorizon: Int

        init(length: Int, blockHashes: [UInt64], charset: PageCharset, scan: ScanResult) {
            self.length = length
            self.blockHashes = blockHashes
            self.charset = charset
            self.scan = scan
            let elements = scan.elements.joined()
            self.firstElementStart = elements.map(\.startTagStart).min() ?? length
            self.editHorizon = elements.map(\.end).max() ?? 0
        }
    }
}
