import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VeneerCore

/// The public listener's HTTP handler: one per client connection, after NIO's HTTP/1 server codec. It
/// recognizes the visitor, decides, then forwards the request to an origin connection of the same event
/// loop and the response back, part by part, with backpressure both ways; only pages being rewritten are
/// buffered. No task per request part: the one async step, the profile view lookup, is bridged to the loop
/// with a promise.
final class ProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let holder: ProxyConfigurationHolder
    let services: ProxyServices
    let pools: OriginConnectionPools
    let clock = ContinuousClock()

    private(set) var context: ChannelHandlerContext?
    var exchange: ProxyExchange?
    private var exchangeCounter: UInt64 = 0
    private var pendingRead = false
    private var writabilityWaiters: [EventLoopPromise<Void>] = []
    /// The client's address for X-Forwarded-For, read once per connection.
    private var clientAddress: String?
    private var routeRecorders = RouteRecorderCache()
    /// The handler in front of the codec, told when a request it passed on is answered. Held strongly (it holds
    /// nothing of this handler): a weak reference would put every retain of it on the slow path.
    var passThrough: PassThroughHandler?
    /// The origin connections of this connection's event loop.
    private var originPool: OriginConnectionPool?
    /// One timer per client connection for `origin.timeout`: the exchange keeps its deadline, and the timer,
    /// when it fires early, re-arms for the current one. No task is scheduled and cancelled per request.
    private var originTimer: Scheduled<Void>?

    init(holder: ProxyConfigurationHolder, services: ProxyServices, pools: OriginConnectionPools) {
        self.holder = holder
        self.services = services
        self.pools = pools
    }

    // MARK: channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress
        originPool = pools.pool(for: context.eventLoop)
    }

    func recordRequest(route: String, status: Int, duration: Duration) {
        routeRecorders.record(route: route, status: status, duration: duration, metrics: services.metrics)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        originTimer?.cancel()
        originTimer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            startExchange(head, context: context)
        case .body(let buffer):
            guard let exchange else { return }
            exchange.requestBodyBytes += buffer.readableBytes
            requestBytesArrived(exchange)
            forwardRequestPart(.body(.byteBuffer(buffer)), exchange: exchange)
        case .end(let trailers):
            guard let exchange else { return }
            exchange.requestEnded = true
            requestBytesArrived(exchange)
            if exchange.awaitingRequestEnd {
                finishExchange(exchange)
                return
            }
            forwardRequestPart(.end(trailers), exchange: exchange)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.connection?.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if shouldHoldClientReads {
            pendingRead = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        exchange?.connection?.setReadsHeld(!writable)
        // The origin's reads resume now: it gets a whole origin.timeout for its next bytes from here.
        if writable, let exchange, exchange.responseHeadSent { originMadeProgress(exchange) }
        if writable {
            let waiters = writabilityWaiters
            writabilityWaiters.removeAll()
            for waiter in waiters { waiter.succeed(()) }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let exchange {
            abandon(exchange)
        }
        originTimer?.cancel()
        originTimer = nil
        let waiters = writabilityWaiters
        writabilityWaiters.removeAll()
        for waiter in waiters { waiter.fail(ChannelError.ioOnClosedChannel) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        services.logger.debug("client connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: read backpressure

    private var shouldHoldClientReads: Bool {
        guard let exchange else { return false }
        switch exchange.phase {
        case .deciding, .connecting:
            return true
        case .forwarding:
            return !(exchange.connection?.isWritable ?? true)
        case .rewriting, .answered:
            return false
        }
    }

    func releaseClientReadsIfPossible() {
        guard pendingRead, !shouldHoldClientReads, let context else { return }
        pendingRead = false
        context.read()
    }

    /// Completes when the client connection can take more bytes.
    func whenClientWritable(eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel) }
        if context.channel.isWritable { return context.eventLoop.makeSucceededVoidFuture() }
        let promise = context.eventLoop.makePromise(of: Void.self)
        writabilityWaiters.append(promise)
        return promise.futureResult
    }

    // MARK: the exchange

    private func startExchange(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        if let previous = exchange {
            // A new head while one is in flight cannot happen with NIO's pipelining assistance; be safe.
            abandon(previous)
        }
        exchangeCounter &+= 1
        passThrough?.requestStarted()
        let exchange = ProxyExchange(
            id: exchangeCounter, configuration: holder.current, requestHead: head, started: clock.now,
            loopActivity: originPool?.activity)
        exchange.handler = self
        self.exchange = exchange
        let isPageMethod = head.method == .GET || head.method == .HEAD
        if exchange.route != nil, isPageMethod, !StaticFileContentTypes.isAsset(path: exchange.path) {
            exchange.isPersonalizedRoute = true
            // Each Cookie line as it came: its pairs are split by ";" alone (RFC 6265 §5.4), so a value may hold
            // a comma, and splitting lines at commas cost more than the rest of the parse.
            let cookies = CookieHeader.parse(head.headers["cookie"])
            // Fields of the configuration, not a copy of all of it: a copy retains each of its parts.
            let settings = exchange.configuration.config.visitor
            let visitor = Visitor.recognize(
                cookies: cookies, userAgent: head.headers.first(name: "user-agent"),
                header: { head.headers.first(name: $0) }, settings: settings)
            exchange.visitor = visitor
            let excluded = visitor.isBot && settings.bots == .original
            exchange.isTracked = !excluded && head.method == .GET
            if exchange.isTracked {
                exchange.page = pageFacts(for: exchange, cookies: cookies)
                if exchange.configuration.hasServingOptimizations {
                    startDecision(exchange, context: context)
                    return
                }
            }
        }
        startOrigin(exchange, forRewrite: false)
    }

    private func pageFacts(for exchange: ProxyExchange, cookies: [String: String]) -> PageFacts {
        let head = exchange.requestHead
        var headers: [String: String] = [:]
        for (name, value) in head.headers {
            let lowered = name.lowercased()
            if lowered == "cookie" { continue }
            if let existing = headers[lowered] {
                headers[lowered] = existing + ", " + value
            } else {
                headers[lowered] = value
            }
        }
        let host = head.headers.first(name: "host") ?? exchange.configuration.config.server.listen.description
        let proto =
            head.headers.first(name: "x-forwarded-proto").map { $0.trimmingASCIISpaces().lowercased() } ?? "http"
        let language = head.headers.first(name: "accept-language").flatMap { value in
            value.split(separator: ",").first.map { $0.split(separator: ";").first.map(String.init) ?? "" }
        }.map { $0.trimmingASCIISpaces().lowercased() }
        let countryHeader = exchange.configuration.config.visitor.countryHeader
        let country = countryHeader.isEmpty ? nil : head.headers.first(name: countryHeader)
        return PageFacts(
            path: Self.percentDecoded(exchange.path),
            url: "\(proto == "https" ? "https" : "http")://\(host)\(ProxyExchange.originForm(head.uri))",
            query: Self.parseQuery(exchange.query),
            referrer: head.headers.first(name: "referer"),
            headers: headers, cookies: cookies,
            language: language?.isEmpty == false ? language : nil,
            country: country)
    }

    /// `text` with `%XX` escapes decoded (and `+` as a space in a query); as it is when an escape is malformed.
    /// Most paths and parameters hold no escape, and Foundation's decoder costs microseconds even then.
    static func percentDecoded(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String {
        let hasEscape = text.utf8.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        guard hasEscape else { return String(text) }
        let spaced = plusIsSpace ? text.replacingOccurrences(of: "+", with: " ") : String(text)
        return spaced.removingPercentEncoding ?? String(text)
    }

    static func parseQuery(_ query: String?) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.percentDecoded(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? Self.percentDecoded(parts[1], plusIsSpace: true) : ""
            if !name.isEmpty, result[name] == nil { result[name] = value }
        }
        return result
    }

    /// Sends the request to the origin: a folder answers in process, an HTTP origin through the pool.
    func startOrigin(_ exchange: ProxyExchange, forRewrite: Bool) {
        guard let context else { return }
        let originHead = originRequestHead(for: exchange, forRewrite: forRewrite, context: context)
        exchange.originRequestHead = originHead
        switch exchange.configuration.origin {
        case .folder:
            guard let staticOrigin = exchange.configuration.staticOrigin else { return }
            exchange.phase = .forwarding
            exchange.pendingRequestParts.removeAll()
            let fileContext = StaticFileOrigin.ResponseContext(
                eventLoop: context.eventLoop, threadPool: services.threadPool, allocator: context.channel.allocator,
                whenWritable: { [weak self, eventLoop = context.eventLoop] in
                    self?.whenClientWritable(eventLoop: eventLoop)
                        ?? eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                })
            staticOrigin.respond(to: originHead, context: fileContext, receiver: exchange)
            releaseClientReadsIfPossible()
        case .http(let origin):
            exchange.phase = .connecting
            connect(exchange, origin: origin, context: context)
        }
    }

    private func connect(_ exchange: ProxyExchange, origin: OriginTarget.HTTPOrigin, context: ChannelHandlerContext) {
        guard let pool = originPool else { return }
        if !exchange.retried, let key = exchange.configuration.originConnectionKey,
            let connection = pool.takeIdleConnection(for: key)
        {
            // Most requests: a kept-alive connection is waiting, so no callback is allocated.
            services.metrics.originConnection(reused: true)
            attach(connection, reused: true, to: exchange, context: context)
            return
        }
        let id = exchange.id
        pool.acquire(
            origin, tls: exchange.configuration.originTLS, connectTimeout: exchange.configuration.connectTimeout,
            fresh: exchange.retried
        ) {
            [weak self] result in
            guard let self, let current = self.exchange, current.id == id, current.phase == .connecting else {
                if case .success(let acquired) = result { pool.release(acquired.connection) }
                return
            }
            switch result {
            case .failure(let error):
                self.services.metrics.originError(error)
                self.services.logger.warning("origin unreachable", metadata: ["error": "\(error)"])
                self.respondWithError(.badGateway, exchange: current)
            case .success(let acquired):
                self.services.metrics.originConnection(reused: acquired.reused)
                self.attach(acquired.connection, reused: acquired.reused, to: current, context: context)
            }
        }
    }

    private func attach(
        _ connection: OriginConnection, reused: Bool, to exchange: ProxyExchange, context: ChannelHandlerContext
    ) {
        guard let head = exchange.originRequestHead else { return }
        exchange.connection = connection
        exchange.reusedConnection = reused
        exchange.phase = .forwarding
        connection.attach(exchange)
        connection.setReadsHeld(!context.channel.isWritable)
        if !exchange.requestEnded, exchange.requestHead.headers.containsToken("100-continue", in: "expect") {
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: exchange.requestHead.version, status: .continue))),
                promise: nil)
        }
        connection.write(.head(head))
        for part in exchange.pendingRequestParts { connection.write(part) }
        exchange.pendingRequestParts.removeAll()
        connection.flush()
        let now = NIODeadline.now()
        let deadline = now + exchange.configuration.originTimeout
        exchange.originDeadline = deadline
        exchange.lastRequestBytesAt = now
        if originTimer == nil {
            let clientDeadline = exchange.requestEnded ? deadline : now + exchange.configuration.idleTimeout
            armOriginTimer(at: min(deadline, clientDeadline), context: context)
        }
        releaseClientReadsIfPossible()
    }

    /// `origin.timeout` counts from the last request bytes the origin was sent: an upload that keeps arriving is
    /// never late, however long it takes.
    private func requestBytesArrived(_ exchange: ProxyExchange) {
        guard exchange.originDeadline != nil else { return }
        let now = NIODeadline.now()
        exchange.lastRequestBytesAt = now
        exchange.originDeadline = now + exchange.configuration.originTimeout
    }

    /// When a client that still owes part of its request body is late: `server.idle_timeout` after the last
    /// bytes it sent. Nil when it owes nothing, or when its reads are held because the origin takes no more
    /// bytes (then the origin is the one that is late).
    private func clientBodyDeadline(_ exchange: ProxyExchange) -> NIODeadline? {
        guard !exchange.requestEnded, exchange.phase == .forwarding, !shouldHoldClientReads,
            let last = exchange.lastRequestBytesAt
        else { return nil }
        return last + exchange.configuration.idleTimeout
    }

    private func armOriginTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        originTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.originTimerFired()
        }
    }

    /// The current exchange's origin is late, or the timer was armed for an earlier exchange: time out, or
    /// wait for the current deadline.
    private func originTimerFired() {
        originTimer = nil
        guard let exchange, let deadline = exchange.originDeadline, let context else { return }
        let now = NIODeadline.now()
        if let clientDeadline = clientBodyDeadline(exchange) {
            // The origin waits for the rest of the body too: it is not late until the client has sent it.
            if clientDeadline <= now {
                clientBodyTimedOut(exchange)
            } else {
                armOriginTimer(at: clientDeadline, context: context)
            }
        } else if deadline > now {
            armOriginTimer(at: deadline, context: context)
        } else if exchange.responseHeadSent, !context.channel.isWritable {
            // The origin's bytes wait for this client to read them: not the origin's delay (a client that stops
            // reading is idle_timeout's).
            exchange.originDeadline = now + exchange.configuration.originTimeout
            armOriginTimer(at: now + exchange.configuration.originTimeout, context: context)
        } else {
            originTimedOut(exchangeID: exchange.id)
        }
    }

    /// A client stopped sending its request body: 408, and the connection closes (the origin connection, with
    /// half a request on it, is not reused).
    private func clientBodyTimedOut(_ exchange: ProxyExchange) {
        exchange.originDeadline = nil
        services.logger.debug(
            "a request body stopped arriving",
            metadata: ["path": "\(exchange.path)", "bytes": "\(exchange.requestBodyBytes)"])
        respondWithError(.requestTimeout, exchange: exchange)
    }

    private func forwardRequestPart(_ part: HTTPClientRequestPart, exchange: ProxyExchange) {
        switch exchange.phase {
        case .deciding, .connecting:
            exchange.pendingRequestParts.append(part)
        case .forwarding:
            if let connection = exchange.connection {
                connection.write(part)
                if case .end = part { connection.flush() }
            }
        case .rewriting, .answered:
            break
        }
    }

    /// The request as the origin gets it: hop-by-hop fields removed, `X-Forwarded-*` set, and for a page that
    /// will be rewritten, an encoding the proxy can decode and no conditional fields. Built in one pass over
    /// the client's fields (this runs for every proxied request).
    private func originRequestHead(
        for exchange: ProxyExchange, forRewrite: Bool, context: ChannelHandlerContext
    ) -> HTTPRequestHead {
        let clientHead = exchange.requestHead
        let configuration = exchange.configuration
        let named = clientHead.headers.connectionNominatedNames()
        var headers = HTTPHeaders()
        headers.reserveCapacity(clientHead.headers.count + 4)
        var clientHost: String?
        var forwardedFor: String?
        var hasForwardedProto = false
        var hasForwardedHost = false
        var uri = ProxyExchange.originForm(clientHead.uri)
        var replacesHost = false
        if case .http(let origin) = configuration.origin {
            replacesHost = !configuration.preserveHost || !clientHead.headers.contains(name: "host")
            if replacesHost { headers.add(name: "Host", value: configuration.originHostHeader) }
            if !origin.basePath.isEmpty, uri != "*" { uri = origin.basePath + uri }
        }
        for (name, value) in clientHead.headers {
            if HTTPHeaders.isHopByHop(name, named: named) { continue }
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("host"):
                if clientHost == nil { clientHost = value }
                if replacesHost { continue }
            case 6 where name.equalsIgnoringASCIICase("expect"):
                continue
            case 15 where name.equalsIgnoringASCIICase("x-forwarded-for"):
                // Several fields are one comma-separated list; the proxy's entry goes last. An empty one adds
                // nothing.
                if !value.isEmpty { forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value }
                continue
            case 16 where name.equalsIgnoringASCIICase("x-forwarded-host"):
                hasForwardedHost = true
            case 17 where name.equalsIgnoringASCIICase("x-forwarded-proto"):
                hasForwardedProto = true
            default:
                if forRewrite, Self.isDroppedForRewrite(name) { continue }
            }
            headers.add(name: name, value: value)
        }
        if let address = clientAddress ?? context.channel.remoteAddress?.ipAddress {
            headers.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + address } ?? address)
        } else if let forwardedFor {
            headers.add(name: "X-Forwarded-For", value: forwardedFor)
        }
        if !hasForwardedProto { headers.add(name: "X-Forwarded-Proto", value: "http") }
        if !hasForwardedHost, let clientHost { headers.add(name: "X-Forwarded-Host", value: clientHost) }
        if forRewrite {
            let acceptsGzip = ContentCoding.acceptsGzip(
                clientHead.headers[canonicalForm: "accept-encoding"].map(String.init))
            headers.add(name: "Accept-Encoding", value: acceptsGzip ? "gzip" : "identity")
        }
        return HTTPRequestHead(version: .http1_1, method: clientHead.method, uri: uri, headers: headers)
    }

    /// Fields a rewritten page's request goes without: its encoding is the proxy's choice, and the proxy needs
    /// the whole page, not a range of it or a 304.
    private static func isDroppedForRewrite(_ name: String) -> Bool {
        for dropped in [
            "accept-encoding", "if-none-match", "if-modified-since", "if-match", "if-unmodified-since",
            "if-range", "range",
        ]
        where name.equalsIgnoringASCIICase(dropped) {
            return true
        }
        return false
    }

    // MARK: origin events

    func originResponseHead(_ head: HTTPResponseHead, exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID, exchange.phase == .forwarding else { return }
        originMadeProgress(exchange)
        exchange.originResponseHead = head
        exchange.responseIsHTML = head.headers.hasHTMLContentType
        if let personalization = exchange.personalization, !personalization.changes.isEmpty {
            if head.status == .ok, exchange.responseIsHTML, exchange.requestHead.method == .GET {
                let encoding = head.headers.first(name: "content-encoding")?.trimmingASCIISpaces().lowercased() ?? ""
                let cap = exchange.configuration.config.origin.maxHTMLBytes
                let length = head.headers.contentLength
                if !ContentCoding.canDecode(encoding) {
                    failOpen(.decodeError, detail: "content-encoding \(encoding)", exchange: exchange)
                } else if let length, length > cap {
                    failOpen(.pageTooLarge, detail: "\(length) bytes over max_html_bytes \(cap)", exchange: exchange)
                } else {
                    exchange.responseMode = .buffer
                    // Storage comes with the first bytes: a page that arrives in one read is kept as it came.
                    exchange.bufferedBody = ByteBuffer()
                    exchange.expectedBodyBytes = length
                    // Streamed only while nothing else is in progress on the loop: a streamed page costs more
                    // writes than a whole one, which a busy loop pays for in throughput, and it is the idle loop
                    // whose clients wait on a page read whole.
                    exchange.mayStreamPage =
                        (exchange.loopActivity?.isAlone ?? true)
                        && Self.maySendWhileArriving(exchange, contentEncoding: encoding, length: length)
                    return
                }
            }
            // Not a page that can be changed: the exposures are not recorded, the visitor saw nothing.
            exchange.personalization = nil
        }
        writeResponseHead(decoratedHead(head, exchange: exchange), exchange: exchange)
    }

    func originResponseBody(_ buffer: ByteBuffer, exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID, let context else { return }
        originMadeProgress(exchange)
        switch exchange.responseMode {
        case .buffer:
            let cap = exchange.configuration.config.origin.maxHTMLBytes
            let held = exchange.bufferedBody?.readableBytes ?? 0
            if held + buffer.readableBytes > cap {
                failOpen(.pageTooLarge, detail: "page over max_html_bytes \(cap)", exchange: exchange)
                exchange.responseMode = .stream
                abandonPageStream(exchange)
                exchange.personalization = nil
                if !exchange.responseHeadSent, let head = exchange.originResponseHead {
                    writeResponseHead(decoratedHead(head, exchange: exchange), exchange: exchange)
                }
                if let held = exchange.bufferedBody {
                    context.write(wrapOutboundOut(.body(.byteBuffer(held))), promise: nil)
                }
                exchange.bufferedBody = nil
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            } else if held == 0, buffer.readableBytes == exchange.expectedBodyBytes {
                // The whole page in one read: kept as it came, not copied.
                exchange.bufferedBody = buffer
            } else {
                if held == 0 {
                    exchange.bufferedBody?.reserveCapacity(min(exchange.expectedBodyBytes ?? 64 * 1024, cap))
                }
                var incoming = buffer
                exchange.bufferedBody?.writeBuffer(&incoming)
            }
            if exchange.mayStreamPage, exchange.responseMode == .buffer { advancePageStream(exchange, complete: false) }
        case .stream:
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            if !context.channel.isWritable { exchange.connection?.setReadsHeld(true) }
        }
    }

    func originReadComplete(exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID, let context else { return }
        if exchange.responseMode == .stream {
            context.flush()
        } else if exchange.streamUnflushed, exchange.loopActivity?.isAlone ?? true {
            // With other exchanges in progress the loop stays busy anyway: the pieces go with the answer's end, in
            // one write, rather than one write per origin read.
            exchange.streamUnflushed = false
            context.flush()
        }
    }

    /// After the response head, `origin.timeout` counts between reads of the body.
    private func originMadeProgress(_ exchange: ProxyExchange) {
        guard exchange.originDeadline != nil else { return }
        exchange.originDeadline = NIODeadline.now() + exchange.configuration.originTimeout
    }

    func originResponseEnd(exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID, context != nil else { return }
        exchange.originDeadline = nil
        if let connection = exchange.connection {
            exchange.connection = nil
            originPool?.release(connection)
        }
        switch exchange.responseMode {
        case .buffer:
            if exchange.mayStreamPage { finishPageStream(exchange) } else { rewrite(exchange) }
        case .stream:
            writeResponseEnd(exchange: exchange)
        }
    }

    func originFailed(_ error: OriginError, exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID else { return }
        exchange.originDeadline = nil
        let connection = exchange.connection
        exchange.connection = nil
        connection?.close()
        // A kept-alive connection that the origin closed while idle: retry once on a new one, if the
        // request can be sent again (no body, nothing received).
        if case .reset = error, exchange.reusedConnection, !exchange.retried, exchange.originResponseHead == nil,
            exchange.requestBodyBytes == 0, exchange.requestEnded, case .http = exchange.configuration.origin
        {
            exchange.retried = true
            exchange.pendingRequestParts = [.end(nil)]
            startOrigin(exchange, forRewrite: exchange.personalization != nil)
            return
        }
        services.metrics.originError(error)
        services.logger.warning("origin failed", metadata: ["error": "\(error)", "path": "\(exchange.path)"])
        respondWithError(.badGateway, exchange: exchange)
    }

    func originWritabilityChanged(isWritable: Bool, exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID else { return }
        if isWritable { releaseClientReadsIfPossible() }
    }

    /// No response head within `origin.timeout` of the request, or no body bytes within it of the last read.
    private func originTimedOut(exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID else { return }
        exchange.originDeadline = nil
        let connection = exchange.connection
        exchange.connection = nil
        connection?.close()
        services.metrics.originError(.timeout)
        services.logger.warning(
            exchange.originResponseHead == nil ? "origin timed out" : "origin stopped sending its answer",
            metadata: ["path": "\(exchange.path)"])
        respondWithError(.gatewayTimeout, exchange: exchange)
    }

    // MARK: ending

    /// The client went away: nothing more is sent, the origin connection cannot be reused.
    private func abandon(_ exchange: ProxyExchange) {
        exchange.cancelTimers()
        if let connection = exchange.connection {
            exchange.connection = nil
            connection.close()
        }
        if self.exchange === exchange { self.exchange = nil }
    }

    func finishExchange(_ exchange: ProxyExchange) {
        guard self.exchange === exchange else { return }
        exchange.cancelTimers()
        self.exchange = nil
        releaseClientReadsIfPossible()
        passThrough?.ordinaryRequestAnswered()
    }
}
