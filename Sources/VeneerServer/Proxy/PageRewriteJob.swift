import NIOCore
import VeneerHTML

/// Decode, rewrite, re-encode: the synchronous work on one buffered page, run on the event loop for small
/// pages and on the thread pool for large ones.
struct PageRewriteJob: Sendable {
    enum Result: Sendable {
        /// The page changed: send `body`, gzip-encoded when `gzip`.
        case changed(body: [UInt8], gzip: Bool)
        /// The page changed: send the origin's bytes with these edits (in page order) spliced in.
        case spliced([SplicedEdit])
        /// No change applied: send the origin's bytes as they were.
        case unchanged
        case failed(FailOpenCause, String)
    }

    struct Outcome: Sendable {
        var result: Result
        var applied: Int
        var skipped: [SkippedChange]
        /// Indices (in the job's `changes`) of changes that edited the page.
        var appliedChanges: Set<Int>
        var duration: Duration
    }

    var page: [UInt8]
    var contentEncoding: String
    var charset: String?
    var changes: [RenderedChange]
    var clientAcceptsGzip: Bool
    var limit: Int
    var rewriter: any PageRewriting

    /// Pages at least this large are rewritten on the thread pool, so one big page cannot stall a loop.
    static let offLoopThreshold = 64 * 1024

    /// The outcome when the page needs no decoding, the answer no gzip, and the page's parse is cached: what is
    /// left is a hash and the edits, cheap enough for the event loop, and the page is not copied. nil sends the
    /// page to `run`.
    static func spliceIfCheap(
        _ body: ByteBuffer, contentEncoding: String, charset: String?, changes: [RenderedChange],
        clientAcceptsGzip: Bool, limit: Int, rewriter: any PageRewriting
    ) -> Outcome? {
        guard ContentCoding.isIdentity(contentEncoding), !(clientAcceptsGzip && body.readableBytes >= 256),
            body.readableBytes <= limit
        else { return nil }
        let clock = ContinuousClock()
        let start = clock.now
        let found = body.withUnsafeReadableBytes { raw in
            rewriter.editsIfParsed(raw.bindMemory(to: UInt8.self), contentTypeCharset: charset, changes: changes)
        }
        guard let found else { return nil }
        return Outcome(
            result: found.changed ? .spliced(found.edits) : .unchanged, applied: found.applied,
            skipped: found.skipped, appliedChanges: Set(found.edits.map(\.changeIndex)), duration: clock.now - start)
    }

    func run() -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let decoded: [UInt8]
        do {
            decoded = try ContentCoding.decode(page, encoding: contentEncoding, limit: limit)
        } catch {
            return Outcome(
                result: .failed(.decodeError, error.message), applied: 0, skipped: [], appliedChanges: [],
                duration: clock.now - start)
        }
        let rewritten = rewriter.rewrite(decoded, contentTypeCharset: charset, changes: changes)
        let appliedChanges = Set(rewritten.edits.map(\.changeIndex))
        guard rewritten.changed else {
            return Outcome(
                result: .unchanged, applied: rewritten.applied, skipped: rewritten.skipped,
                appliedChanges: appliedChanges, duration: clock.now - start)
        }
        guard !ContentCoding.isIdentity(contentEncoding) || (clientAcceptsGzip && rewritten.output.count >= 256) else {
            // The origin's bytes are the page: the edits are sent around slices of them, with no copy.
            return Outcome(
                result: .spliced(rewritten.edits), applied: rewritten.applied, skipped: rewritten.skipped,
                appliedChanges: appliedChanges, duration: clock.now - start)
        }
        var body = rewritten.output
        var gzip = false
        if clientAcceptsGzip, body.count >= 256, let encoded = try? ContentCoding.gzip(body) {
            body = encoded
            gzip = true
        }
        return Outcome(
            result: .changed(body: body, gzip: gzip), applied: rewritten.applied, skipped: rewritten.skipped,
            appliedChanges: appliedChanges, duration: clock.now - start)
    }
}
