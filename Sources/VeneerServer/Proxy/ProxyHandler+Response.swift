import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import VeneerCore
import VeneerHTML

extension ProxyHandler {
    /// The origin's head as the client gets it: hop-by-hop fields removed; on a personalized route's HTML,
    /// `Cache-Control: private`, `Vary: Cookie` and the visitor's cookies.
    func decoratedHead(_ origin: HTTPResponseHead, exchange: ProxyExchange) -> HTTPResponseHead {
        var headers = origin.headers
        headers.removeHopByHopFields()
        decorate(&headers, exchange: exchange, isPage: exchange.responseIsHTML)
        return HTTPResponseHead(version: exchange.requestHead.version, status: origin.status, headers: headers)
    }

    func decorate(_ headers: inout HTTPHeaders, exchange: ProxyExchange, isPage: Bool) {
        if exchange.isPersonalizedRoute, isPage {
            // A shared cache must never serve one visitor's page to another.
            headers.replaceOrAdd(name: "Cache-Control", value: "private")
            headers.addToken("Cookie", to: "Vary")
        }
        if exchange.isTracked, isPage, let visitor = exchange.visitor {
            for cookie in visitor.setCookieValues(settings: exchange.configuration.config.visitor) {
                headers.add(name: "Set-Cookie", value: cookie)
            }
        }
        if exchange.configuration.debugHeader, exchange.isTracked {
            headers.replaceOrAdd(name: "Veneer-Decision", value: exchange.decisionHeader ?? "none")
        }
        if !exchange.requestHead.isKeepAlive {
            exchange.closeAfterResponse = true
            headers.replaceOrAdd(name: "Connection", value: "close")
        } else if exchange.requestHead.version.major == 1, exchange.requestHead.version.minor == 0 {
            headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
    }

    func writeResponseHead(_ head: HTTPResponseHead, exchange: ProxyExchange) {
        guard let context else { return }
        exchange.responseHeadSent = true
        exchange.responseStatus = Int(head.status.code)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    /// Ends the response, records the request, and hands the connection to the next request (or closes it).
    func writeResponseEnd(exchange: ProxyExchange) {
        guard let context else { return }
        // Answered before the request finished: a body that was never asked for (no 100 Continue, or not
        // forwarded) may never come, so the connection closes; a bodyless request's end is on its way.
        let waitForRequestEnd = !exchange.requestEnded && !exchange.closeAfterResponse && !exchange.expectsRequestBody
        if !exchange.requestEnded, !waitForRequestEnd { exchange.closeAfterResponse = true }
        recordRequest(
            route: exchange.routeLabel, status: exchange.responseStatus, duration: clock.now - exchange.started)
        // Events before the flush that completes the answer (`submit` journals synchronously): a process killed
        // once the client has the whole page has kept its view and exposures, and one killed earlier has not,
        // so the client's retry is not counted twice. Origins hand over the last body bytes and the end
        // together, so no earlier flush completes the page.
        recordPageEvents(exchange)
        let close = exchange.closeAfterResponse
        if close {
            passThrough?.connectionWillClose()
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
            promise.futureResult.assumeIsolated().whenComplete { [weak self] _ in
                self?.context?.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        if waitForRequestEnd {
            exchange.phase = .answered
            exchange.awaitingRequestEnd = true
        } else {
            finishExchange(exchange)
        }
    }

    /// An answer made by the proxy itself.
    func respondLocally(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: String, exchange: ProxyExchange, isPage: Bool
    ) {
        guard let context else { return }
        exchange.phase = .answered
        exchange.responseIsHTML = false
        var headers = headers
        headers.replaceOrAdd(name: "Content-Length", value: String(body.utf8.count))
        decorate(&headers, exchange: exchange, isPage: isPage)
        writeResponseHead(
            HTTPResponseHead(version: exchange.requestHead.version, status: status, headers: headers),
            exchange: exchange)
        if !body.isEmpty, exchange.requestHead.method != .HEAD {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        writeResponseEnd(exchange: exchange)
    }

    /// 502, 504 or 408 with a short plain page; after the response started, the client connection is cut instead
    /// (a truncated body must not look complete).
    func respondWithError(_ status: HTTPResponseStatus, exchange: ProxyExchange) {
        exchange.cancelTimers()
        if let connection = exchange.connection {
            exchange.connection = nil
            connection.close()
        }
        if exchange.responseHeadSent {
            recordRequest(route: exchange.routeLabel, status: Int(status.code), duration: clock.now - exchange.started)
            finishExchange(exchange)
            context?.close(promise: nil)
            return
        }
        exchange.personalization = nil
        exchange.pageExposures = []
        let text = Self.errorText(status)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-store")
        respondLocally(status: status, headers: headers, body: text, exchange: exchange, isPage: false)
    }

    /// The body of a 502, 504 or 408: short, plain, and nothing about the proxy's internals.
    static func errorText(_ status: HTTPResponseStatus) -> String {
        switch status {
        case .gatewayTimeout: "504 Gateway Timeout\nThe site did not answer in time. Please try again.\n"
        case .requestTimeout: "408 Request Timeout\nThe request did not arrive in time. Please try again.\n"
        default: "502 Bad Gateway\nThe site could not be reached. Please try again.\n"
        }
    }

    /// A redirect payload: the exposure is recorded first, then the answer goes out without an origin fetch.
    func respondWithRedirect(location: String, status: Int, exposure: Exposure, exchange: ProxyExchange) {
        exchange.pageExposures = []
        recordExposure(exposure, applied: true, exchange: exchange)
        var headers = HTTPHeaders()
        headers.add(name: "Location", value: location)
        respondLocally(
            status: HTTPResponseStatus(statusCode: status), headers: headers, body: "", exchange: exchange, isPage: true
        )
    }

    func failOpen(_ cause: FailOpenCause, detail: String, exchange: ProxyExchange) {
        services.failOpenLog.record(cause, detail: detail, logger: services.logger, metrics: services.metrics)
    }

    // MARK: rewriting

    /// The buffered page is complete: rewrite it (off the loop when large) and send it.
    func rewrite(_ exchange: ProxyExchange) {
        guard let context, let personalization = exchange.personalization, let head = exchange.originResponseHead,
            let body = exchange.bufferedBody
        else { return }
        exchange.phase = .rewriting
        exchange.bufferedBody = nil
        let contentEncoding =
            head.headers.first(name: "content-encoding")?.trimmingASCIISpaces().lowercased() ?? ""
        let clientAcceptsGzip = ContentCoding.acceptsGzip(
            exchange.requestHead.headers[canonicalForm: "accept-encoding"].map(String.init))
        let limit = exchange.configuration.config.origin.maxHTMLBytes
        if let outcome = PageRewriteJob.spliceIfCheap(
            body, contentEncoding: contentEncoding, charset: head.headers.contentTypeCharset,
            changes: personalization.changes, clientAcceptsGzip: clientAcceptsGzip, limit: limit,
            rewriter: services.rewriter)
        {
            // Most pages: the parse is cached, so a hash and the edits, here, with no copy of the page.
            rewriteFinished(.success(outcome), original: body, exchangeID: exchange.id)
            return
        }
        let job = PageRewriteJob(
            page: Array(body.readableBytesView), contentEncoding: contentEncoding,
            charset: head.headers.contentTypeCharset, changes: personalization.changes,
            clientAcceptsGzip: clientAcceptsGzip, limit: limit, rewriter: services.rewriter)
        let id = exchange.id
        if body.readableBytes < PageRewriteJob.offLoopThreshold {
            rewriteFinished(.success(job.run()), original: body, exchangeID: id)
        } else {
            services.threadPool.runIfActive(eventLoop: context.eventLoop) { job.run() }
                .assumeIsolated().whenComplete { [weak self] result in
                    self?.rewriteFinished(result, original: body, exchangeID: id)
                }
        }
    }

    private func rewriteFinished(
        _ result: Result<PageRewriteJob.Outcome, any Error>, original: ByteBuffer, exchangeID: UInt64
    ) {
        guard let exchange, exchange.id == exchangeID, let context, let head = exchange.originResponseHead,
            let personalization = exchange.personalization
        else { return }
        if exchange.pageStream != nil {
            finishDivergedStream(result, original: original, exchange: exchange)
            return
        }
        exchange.personalization = nil
        var appliedExposures = Set<Int>()
        var body: [ByteBuffer] = [original]
        var headers = head.headers
        switch result {
        case .failure(let error):
            failOpen(.rewriteError, detail: "\(error)", exchange: exchange)
        case .success(let outcome):
            reportChanges(applied: outcome.applied, skipped: outcome.skipped, exchange: exchange)
            switch outcome.result {
            case .changed, .spliced:
                services.metrics.rewrite(duration: outcome.duration, changed: true)
                appliedExposures = personalization.exposures(changedBy: outcome.appliedChanges)
                var gzip = false
                if case .changed(let bytes, let encoded) = outcome.result {
                    body = [context.channel.allocator.buffer(bytes: bytes)]
                    gzip = encoded
                } else if case .spliced(let edits) = outcome.result {
                    body = Self.splice(edits, into: original, allocator: context.channel.allocator)
                }
                Self.removeOriginBodyFields(&headers)
                if gzip { headers.add(name: "Content-Encoding", value: "gzip") }
                headers.add(name: "Content-Length", value: String(body.reduce(0) { $0 + $1.readableBytes }))
            case .unchanged:
                services.metrics.rewrite(duration: outcome.duration, changed: false)
            case .failed(let cause, let detail):
                failOpen(cause, detail: detail, exchange: exchange)
            }
        }
        queueExposures(of: personalization, applied: appliedExposures, exchange: exchange)
        var responseHead = HTTPResponseHead(version: head.version, status: head.status, headers: headers)
        responseHead = decoratedHead(responseHead, exchange: exchange)
        writeResponseHead(responseHead, exchange: exchange)
        for part in body where part.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
        }
        exchange.phase = .answered
        writeResponseEnd(exchange: exchange)
    }

    /// The origin's fields that describe its bytes, which a changed page no longer has (length, validators, encoding,
    /// ranges); and `Vary: Accept-Encoding`, since the answer depends on whether the client takes gzip.
    static func removeOriginBodyFields(_ headers: inout HTTPHeaders) {
        for name in ["content-length", "etag", "last-modified", "content-encoding", "content-md5", "accept-ranges"] {
            headers.remove(name: name)
        }
        headers.addToken("Accept-Encoding", to: "Vary")
    }

    /// Counts a rewrite's changes, and fails open on a skipped change: a selector that matches nothing on this page
    /// is normal (changes name elements of some pages); anything else is a change that could not be applied safely.
    func reportChanges(applied: Int, skipped: [SkippedChange], exchange: ProxyExchange) {
        services.metrics.rewriteChanges(applied: applied, skipped: skipped.count)
        if let first = skipped.first(where: { !$0.reason.contains("no element matches") }) {
            failOpen(.rewriteError, detail: first.description, exchange: exchange)
        }
    }

    /// Queues the page's exposures, each with whether the page changed for it (`applied`: exposure indices), to be
    /// recorded with the page; `onlyApplied` leaves out the others.
    func queueExposures(
        of personalization: ProxyExchange.Personalization, applied: Set<Int>, onlyApplied: Bool = false,
        exchange: ProxyExchange
    ) {
        for (index, exposure) in personalization.exposures.enumerated() where !onlyApplied || applied.contains(index) {
            exchange.pendingExposures.append((exposure, applied.contains(index)))
        }
    }

    /// The page as parts to write: long runs of the origin's buffer as slices of it (not copied), and the short
    /// pieces around the edits, with the replacements, copied together into one buffer. Each part walks the
    /// outbound pipeline on its own (four handlers, each unwrapping it from `NIOAny`), which costs more than
    /// copying a few kilobytes: three edits near the top of a page go out as two parts, not seven.
    /// `range`: the input bytes to send (all of the page by default), which hold `edits`.
    static func splice(
        _ edits: [SplicedEdit], into page: ByteBuffer, range: Range<Int>? = nil, allocator: ByteBufferAllocator
    ) -> [ByteBuffer] {
        let range = range ?? 0..<page.readableBytes
        var parts: [ByteBuffer] = []
        var gathered: ByteBuffer?
        func gather(_ count: Int, _ write: (inout ByteBuffer) -> Void) {
            if gathered == nil { gathered = allocator.buffer(capacity: max(4096, count)) }
            write(&gathered!)
        }
        func add(from start: Int, to end: Int) {
            guard end > start, let slice = page.getSlice(at: page.readerIndex + start, length: end - start) else {
                return
            }
            if slice.readableBytes < Self.shortestSlice {
                gather(slice.readableBytes) { $0.writeImmutableBuffer(slice) }
            } else {
                if let pending = gathered { parts.append(pending) }
                gathered = nil
                parts.append(slice)
            }
        }
        var cursor = range.lowerBound
        for edit in edits {
            add(from: cursor, to: edit.range.lowerBound)
            if !edit.replacement.isEmpty { gather(edit.replacement.count) { $0.writeBytes(edit.replacement) } }
            cursor = edit.range.upperBound
        }
        add(from: cursor, to: range.upperBound)
        if let pending = gathered { parts.append(pending) }
        return parts
    }

    /// Runs of the page shorter than this are copied into the part beside them rather than sent as slices.
    static let shortestSlice = 16 * 1024
}
