import Synchronization
import VeneerCore

extension PageRewriter {
    /// Keeps what the parse of `page` found under its first block, so that the next response starting with the same
    /// bytes can be rewritten while it arrives. Only a page whose encoding its first bytes declare is kept: one read
    /// as UTF-8 because all of it is valid UTF-8 could turn out to be windows-1252 at its last byte.
    func rememberForStreaming(
        _ page: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, charset: PageCharset, selectors: [String],
        scan: ScanResult
    ) {
        let blockSize = PagePrediction.blockSize
        guard page.count > blockSize,
            case .success(charset) = PageCharset.declared(
                UnsafeBufferPointer(rebasing: page[..<blockSize]), contentTypeCharset: contentTypeCharset)
        else { return }
        let hashes = PagePrediction.blockHashes(page)
        let key = PagePredictions.Key(
            firstBlockHash: hashes[0], contentTypeCharset: contentTypeCharset, selectors: selectors)
        let entry = PagePredictions.Entry(length: page.count, blockHashes: hashes, charset: charset, scan: scan)
        predictions.withLock { $0.insert(entry, for: key) }
    }

    /// The prediction for a response whose first bytes are `firstBytes` (at least `PagePrediction.blockSize` of
    /// them): nil when no page parsed for these changes' selectors started with the same block.
    public func predict(
        _ firstBytes: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, changes: [RenderedChange]
    ) -> PagePrediction? {
        let blockSize = PagePrediction.blockSize
        guard !changes.isEmpty, firstBytes.count >= blockSize else { return nil }
        let block = UnsafeBufferPointer(rebasing: firstBytes[..<blockSize])
        let (selectors, selectorIndex) = Self.distinctSelectors(changes)
        let key = PagePredictions.Key(
            firstBlockHash: BodyHash.hash(block), contentTypeCharset: contentTypeCharset,
            selectors: selectors.map(\.source))
        guard let entry = predictions.withLock({ $0.lookup(key) }), entry.length <= maximumPageBytes,
            case .success(entry.charset) = PageCharset.declared(block, contentTypeCharset: contentTypeCharset)
        else { return nil }
        return PagePrediction(entry: entry, changes: changes, selectorIndex: selectorIndex)
    }
}
