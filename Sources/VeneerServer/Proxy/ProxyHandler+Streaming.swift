import Logging
import NIOCore
import NIOHTTP1
import VeneerCore
import VeneerHTML

/// A page to rewrite that starts like one parsed before goes out while it arrives (`PageStream`): the client's first
/// bytes leave before the origin's last ones are read, as with nginx's sub_filter, instead of after the whole page.
/// The answer is chunked; its last chunk, which completes it, goes after the page's events are journaled.
///
/// A page that turns out different from the one predicted stops streaming at its first differing block and is
/// rewritten whole at its end; the rest goes out from that rewrite.
extension ProxyHandler {
    /// Input bytes of the first piece sent ahead of the rest when the exchange is its loop's only one.
    static let firstPieceBytes = 16 * 1024

    /// Whether a page buffered for rewriting may be sent while it arrives: a chunked answer needs HTTP/1.1, and the
    /// pieces are the origin's own bytes, so neither side may want them encoded.
    static func maySendWhileArriving(_ exchange: ProxyExchange, contentEncoding: String, length: Int?) -> Bool {
        let version = exchange.requestHead.version
        guard version.major == 1, version.minor >= 1, ContentCoding.isIdentity(contentEncoding) else { return false }
        if let length, length <= PagePrediction.blockSize { return false }
        return !ContentCoding.acceptsGzip(
            exchange.requestHead.headers[canonicalForm: "accept-encoding"].map(String.init))
    }

    /// Body bytes were added to the buffered page (`complete`: all of it): sends what its prediction allows.
    func advancePageStream(_ exchange: ProxyExchange, complete: Bool) {
        guard exchange.mayStreamPage, let context, let body = exchange.bufferedBody,
            let personalization = exchange.personalization, let head = exchange.originResponseHead
        else { return }
        // Rewriting time: the prediction and the pieces, not the writes.
        let clock = ContinuousClock()
        var start = clock.now
        if exchange.pageStream == nil {
            guard body.readableBytes >= PagePrediction.blockSize else { return }
            let prediction = body.withUnsafeReadableBytes { raw in
                services.rewriter.predict(
                    raw.bindMemory(to: UInt8.self), contentTypeCharset: head.headers.contentTypeCharset,
                    changes: personalization.changes)
            }
            guard let prediction, prediction.length <= exchange.configuration.config.origin.maxHTMLBytes else {
                exchange.mayStreamPage = false
                exchange.streamRewriteTime += clock.now - start
                return
            }
            exchange.pageStream = PageStream(prediction)
        }
        let alone = exchange.loopActivity?.isAlone ?? true
        var limit = alone && exchange.pageStream?.sent == 0 ? Self.firstPieceBytes : Int.max
        while true {
            let piece = body.withUnsafeReadableBytes { raw in
                exchange.pageStream?.advance(raw.bindMemory(to: UInt8.self), complete: complete, limit: limit)
            }
            exchange.streamRewriteTime += clock.now - start
            guard let piece = piece ?? nil else { break }
            defer { start = clock.now }
            if !exchange.responseHeadSent { writeStreamedHead(head, exchange: exchange) }
            for part in Self.splice(piece.edits, into: body, range: piece.range, allocator: context.channel.allocator)
            where part.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            }
            exchange.streamUnflushed = true
            guard limit != .max else { break }
            // The first piece now, so that the client starts reading while the rest is checked.
            context.flush()
            exchange.streamUnflushed = false
            limit = .max
        }
        // Download backpressure while the origin still has bytes to send. Unflushed pieces count against the
        // client's write buffer too, so they go now: held reads resume only once that buffer drains.
        let whole = complete || exchange.expectedBodyBytes == body.readableBytes
        if !whole, !context.channel.isWritable {
            if exchange.streamUnflushed {
                exchange.streamUnflushed = false
                context.flush()
            }
            // The flush may have drained it (and told the origin connection so) already.
            if !context.channel.isWritable { exchange.connection?.setReadsHeld(true) }
        }
    }

    /// The origin's head as a streamed page's: no length (NIO's encoder chunks the body) and no validators.
    private func writeStreamedHead(_ origin: HTTPResponseHead, exchange: ProxyExchange) {
        var headers = origin.headers
        Self.removeOriginBodyFields(&headers)
        let head = HTTPResponseHead(version: origin.version, status: origin.status, headers: headers)
        writeResponseHead(decoratedHead(head, exchange: exchange), exchange: exchange)
    }

    /// The origin's answer is complete: the rest of a page that was the predicted one goes out, or a page that was
    /// not is rewritten whole (`finishDivergedStream` completes it).
    func finishPageStream(_ exchange: ProxyExchange) {
        advancePageStream(exchange, complete: true)
        guard let stream = exchange.pageStream, stream.isFinished, let result = stream.result else {
            // Nothing sent yet: the page is answered as any other.
            if !exchange.responseHeadSent { exchange.pageStream = nil }
            rewrite(exchange)
            return
        }
        exchange.bufferedBody = nil
        completeStreamedPage(
            exchange, edits: result.edits, applied: result.applied, skipped: result.skipped, changed: result.changed)
    }

    /// The whole rewrite of a streamed page that turned out different from its prediction: what it adds after the
    /// bytes already sent goes out. Should it disagree with what was sent, the page is still completed (its first
    /// part as changed for the page parsed before), and the disagreement is logged and counted.
    func finishDivergedStream(
        _ result: Result<PageRewriteJob.Outcome, any Error>, original: ByteBuffer, exchange: ProxyExchange
    ) {
        guard let context, let stream = exchange.pageStream else { return }
        var edits: [SplicedEdit] = []
        var applied = 0
        var skipped: [SkippedChange] = []
        var usable = true
        switch result {
        case .failure(let error):
            failOpen(.rewriteError, detail: "\(error)", exchange: exchange)
        case .success(let outcome):
            applied = outcome.applied
            skipped = outcome.skipped
            switch outcome.result {
            case .spliced(let found): edits = found
            case .unchanged: break
            // Not made for a page that can stream (the origin's bytes, no gzip).
            case .changed: usable = false
            case .failed(let cause, let detail): failOpen(cause, detail: detail, exchange: exchange)
            }
        }
        let (rest, agrees) = stream.remainder(of: edits)
        if !agrees || !usable {
            services.metrics.streamedPageDisagreed()
            services.logger.warning(
                "the whole rewrite of a page sent while it arrived disagrees with what was sent; the rest follows it",
                metadata: ["path": "\(exchange.path)", "sent": "\(stream.sent)"])
        }
        let range = stream.sent..<original.readableBytes
        for part in Self.splice(Array(rest), into: original, range: range, allocator: context.channel.allocator)
        where part.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
        }
        let sentAndRest = Array(stream.editsSent) + rest
        completeStreamedPage(
            exchange, edits: sentAndRest, applied: applied, skipped: skipped, changed: !sentAndRest.isEmpty)
    }

    /// Metrics, failures and exposures of a streamed page whose bytes are all written, then its end.
    private func completeStreamedPage(
        _ exchange: ProxyExchange, edits: [SplicedEdit], applied: Int, skipped: [SkippedChange], changed: Bool
    ) {
        reportChanges(applied: applied, skipped: skipped, exchange: exchange)
        services.metrics.rewrite(duration: exchange.streamRewriteTime, changed: changed)
        services.metrics.pageStreamed()
        if let personalization = exchange.personalization {
            queueExposures(
                of: personalization, applied: personalization.exposures(changedBy: edits.map(\.changeIndex)),
                exchange: exchange)
        }
        exchange.personalization = nil
        exchange.phase = .answered
        writeResponseEnd(exchange: exchange)
    }

    /// A streamed page grew past `max_html_bytes`: the rest goes as the origin sends it. The changes already sent
    /// count as seen.
    func abandonPageStream(_ exchange: ProxyExchange) {
        guard let stream = exchange.pageStream, let personalization = exchange.personalization else { return }
        exchange.pageStream = nil
        exchange.mayStreamPage = false
        queueExposures(
            of: personalization, applied: personalization.exposures(changedBy: stream.editsSent.map(\.changeIndex)),
            onlyApplied: true, exchange: exchange)
        if var held = exchange.bufferedBody {
            held.moveReaderIndex(forwardBy: min(stream.sent, held.readableBytes))
            exchange.bufferedBody = held
        }
    }
}
