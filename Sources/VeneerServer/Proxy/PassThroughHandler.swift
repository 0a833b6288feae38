import Logging
import NIOCore
import NIOHTTP1

/// The front of every client connection, before NIO's HTTP/1 codec. Requests that are only forwarded (a
/// bodiless GET or HEAD on an unrouted path or for an asset, to an HTTP origin) go to the origin as bytes:
/// the head is read in place, rewritten into the origin's request, and the response comes back as bytes
/// with its framing tracked, never split into NIOHTTP1 parts. Everything else (pages that may be
/// personalized, bodies, odd syntax) is passed to the codec and the `ProxyHandler` behind it, one request
/// at a time, so the two paths answer in order (NIO's pipelining handler joins the codec only when a connection
/// is handed to it for good).
///
/// ```swift
/// let front = PassThroughHandler(holder: holder, services: services, pools: pools)
/// try channel.pipeline.syncOperations.addHandler(front)
/// try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
/// let proxy = ProxyHandler(holder: holder, services: services, pools: pools)
/// proxy.passThrough = front
/// try channel.pipeline.syncOperations.addHandler(proxy)
/// ```
final class PassThroughHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Mode: Equatable {
        /// At a request boundary: the next bytes are a request head.
        case idle
        /// A request is forwarded as bytes; later bytes wait.
        case passThrough
        /// The codec gets the next `remaining` bytes, the rest of one request.
        case ordinary(remaining: Int)
        /// The codec has a whole request; later bytes wait for its answer.
        case ordinaryAwaitingAnswer
        /// The codec, with NIO's pipelining handler, reads everything from here on.
        case handedOver
        /// The connection is ending; bytes are dropped.
        case closing
    }

    /// Client bytes held while a request is answered; reads pause above this.
    static let maximumHeldBytes = 64 * 1024

    /// Client bytes read and not yet consumed (for tests: what `maximumHeldBytes` bounds).
    var heldByteCount: Int { inbound?.readableBytes ?? 0 }

    let holder: ProxyConfigurationHolder
    let services: ProxyServices
    let pools: OriginConnectionPools

    private(set) var mode = Mode.idle
    private var context: ChannelHandlerContext?
    /// Client bytes not yet consumed: the start of the next request.
    private var inbound: ByteBuffer?
    /// How many of `inbound`'s bytes are known to hold no end of a request head: a head that arrives a byte at a
    /// time is looked over once, not once per byte.
    private var headSearchOffset = 0
    private var pendingRead = false
    private var quiescing = false
    /// The codec's request was one after which NIO's decoder reads no more: the connection ends with it.
    private var closesAfterOrdinary = false
    /// The codec was given bytes since it last heard that a batch of reads ended.
    private var codecReadsPending = false
    /// The client's IP address as `X-Forwarded-For` gets it, in bytes made once per connection.
    private var clientAddress: [UInt8]?
    private var originPool: OriginConnectionPool?
    /// The request decoder's place in the pipeline, where requests handed to the `ProxyHandler` are fired from;
    /// found at the first one, let go when the connection ends.
    private var decoderContext: ChannelHandlerContext?
    private var exchange: PassThroughExchange?
    private var exchangeCounter: UInt64 = 0
    /// One timer per connection for `origin.timeout`, re-armed lazily as in `ProxyHandler`.
    private var originTimer: Scheduled<Void>?
    private var routeRecorders = RouteRecorderCache()
    /// The head scans' field lists, reused from one request to the next.
    private var requestFields: [PassThroughRequest.Field] = []
    private var responseFields: [ScannedResponseHead.Field] = []
    /// Since when the connection has had no request in flight; nil while one is.
    private var idleSince: NIODeadline?
    /// One timer per connection for `server.idle_timeout`, re-armed when it fires early.
    private var idleTimer: Scheduled<Void>?
    /// Since when the client has taken none of what was written to it; nil while it reads.
    private var stalledSince: NIODeadline?

    init(holder: ProxyConfigurationHolder, services: ProxyServices, pools: OriginConnectionPools) {
        self.holder = holder
        self.services = services
        self.pools = pools
    }

    // MARK: client channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.ipAddress.map { Array($0.utf8) }
        originPool = pools.pool(for: context.eventLoop)
        let now = NIODeadline.now()
        idleSince = now
        armIdleTimer(at: now + holder.current.idleTimeout, context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endConnection()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch mode {
        case .handedOver:
            context.fireChannelRead(data)
            return
        case .closing:
            return
        default:
            break
        }
        var incoming = unwrapInboundIn(data)
        if inbound == nil {
            inbound = incoming
            headSearchOffset = 0
        } else {
            inbound!.writeBuffer(&incoming)
        }
        process(context: context)
    }

    /// The handlers behind hear that a batch of reads ended only when they were given some of them: telling them
    /// after a batch of pass-through bytes walks the rest of the pipeline for nothing.
    func channelReadComplete(context: ChannelHandlerContext) {
        if codecReadsPending || mode == .handedOver {
            codecReadsPending = false
            context.fireChannelReadComplete()
            return
        }
        // The bytes stayed here: the next read is asked for now, from this handler. NIO's automatic read comes
        // only when none is pending, and it would walk through every handler of the codec path to get here (about
        // 3% of a pass-through request's user CPU); those handlers have no request, so no say, in these modes.
        if mode == .idle || mode == .passThrough { read(context: context) }
    }

    func read(context: ChannelHandlerContext) {
        if mode != .handedOver, (inbound?.readableBytes ?? 0) >= Self.maximumHeldBytes {
            pendingRead = true
        } else {
            context.read()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        exchange?.connection?.setReadsHeld(!writable)
        let now = NIODeadline.now()
        stalledSince = writable ? nil : now
        // The origin's reads resume now: it gets a whole origin.timeout for its next bytes from here.
        if writable, let exchange, exchange.headSent, exchange.deadline != nil {
            exchange.deadline = now + exchange.configuration.originTimeout
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endConnection()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        quiescing = true
        switch mode {
        case .idle:
            mode = .closing
            context.close(promise: nil)
        case .passThrough:
            // The response in flight says `Connection: close` if its head is still to come; the connection
            // closes after it either way.
            exchange?.closeAfter = true
        case .ordinary, .ordinaryAwaitingAnswer:
            // The connection closes once the `ProxyHandler` has answered (`ordinaryRequestAnswered`).
            break
        case .handedOver:
            // NIO's pipelining handler closes the connection after the answer in flight.
            context.fireUserInboundEventTriggered(event)
        case .closing:
            break
        }
    }

    /// The client is gone or the handler leaves: the origin connection in use cannot be reused.
    private func endConnection() {
        mode = .closing
        inbound = nil
        decoderContext = nil
        originTimer?.cancel()
        originTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
        if let connection = exchange?.connection { connection.close() }
        exchange = nil
    }

    // MARK: idle connections

    /// The `ProxyHandler` started a request of its own.
    func requestStarted() {
        idleSince = nil
    }

    private func armIdleTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        // Strong captures here and below: a weak reference to this handler would give it a side table, and every
        // retain and release of it the slow path. The timers are cancelled when the connection ends.
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleTimerFired()
        }
    }

    /// Closes a connection that has waited `server.idle_timeout` with no request in flight (a request head
    /// still arriving counts as none), or whose client has read nothing of its answer for as long;
    /// otherwise waits until it could have.
    private func idleTimerFired() {
        idleTimer = nil
        guard let context, mode != .closing else { return }
        let timeout = holder.current.idleTimeout
        if let stalled = stalledSince {
            guard stalled + timeout <= .now() else {
                armIdleTimer(at: stalled + timeout, context: context)
                return
            }
            // A client that stops reading would hold the answer, and its origin connection, for ever.
            services.logger.debug("closing a client connection that stopped reading")
            endConnection()
            context.close(promise: nil)
            return
        }
        guard let since = idleSince else {
            armIdleTimer(at: .now() + timeout, context: context)
            return
        }
        if since + timeout <= .now() {
            services.logger.debug("closing an idle client connection")
            mode = .closing
            inbound = nil
            context.close(promise: nil)
        } else {
            armIdleTimer(at: since + timeout, context: context)
        }
    }

    // MARK: requests

    /// Reads what the client sent, from a request boundary: starts a pass-through exchange, or hands bytes to
    /// the codec. Returns whether bytes went to the codec.
    @discardableResult
    private func process(context: ChannelHandlerContext) -> Bool {
        var firedRead = false
        while true {
            switch mode {
            case .handedOver:
                if let held = inbound {
                    inbound = nil
                    if held.readableBytes > 0 {
                        firedRead = true
                        codecReadsPending = true
                        context.fireChannelRead(wrapInboundOut(held))
                    }
                }
                return firedRead
            case .ordinary(let remaining):
                guard let available = inbound?.readableBytes, available > 0 else {
                    inbound = nil
                    return firedRead
                }
                let count = min(remaining, available)
                let part = inbound!.readSlice(length: count)!
                headSearchOffset = 0
                if count == available { inbound = nil }
                mode = count == remaining ? .ordinaryAwaitingAnswer : .ordinary(remaining: remaining - count)
                firedRead = true
                codecReadsPending = true
                context.fireChannelRead(wrapInboundOut(part))
            case .passThrough, .ordinaryAwaitingAnswer, .closing:
                releaseReadsIfPossible(context: context)
                return firedRead
            case .idle:
                guard let held = inbound, held.readableBytes > 0 else {
                    inbound = nil
                    releaseReadsIfPossible(context: context)
                    return firedRead
                }
                if quiescing {
                    mode = .closing
                    context.close(promise: nil)
                    return firedRead
                }
                guard held.withUnsafeReadableBytes({ RequestHeadScan.isWorthScanning($0, from: headSearchOffset) })
                else {
                    headSearchOffset = held.readableBytes
                    releaseReadsIfPossible(context: context)
                    return firedRead
                }
                switch held.withUnsafeReadableBytes({ RequestHeadScan.scan($0, reusing: &requestFields) }) {
                case .incomplete:
                    releaseReadsIfPossible(context: context)
                    return firedRead
                case .handOver:
                    guard addPipeliningHandler(context: context) else {
                        mode = .closing
                        inbound = nil
                        context.close(promise: nil)
                        return firedRead
                    }
                    mode = .handedOver
                case .ordinary(let length):
                    mode = .ordinary(remaining: length)
                case .lastOrdinary(let length):
                    mode = .ordinary(remaining: length)
                    closesAfterOrdinary = true
                case .passThrough(let request):
                    if !startPassThrough(request, context: context) {
                        if handToProxy(request, context: context) {
                            firedRead = true
                        } else {
                            mode = .ordinary(remaining: request.headLength)
                        }
                    }
                }
            }
        }
    }

    /// A bodiless GET or HEAD that the `ProxyHandler` answers (a page that may be personalized, a folder origin)
    /// goes to it as the head and end NIO's decoder would have read, fired from the decoder's place in the
    /// pipeline: the scan read the head already. The decoder stays at a request boundary, ready for whatever
    /// comes next as bytes. Returns false when the codec is not found (then it gets the bytes).
    private func handToProxy(_ request: PassThroughRequest, context: ChannelHandlerContext) -> Bool {
        if decoderContext == nil {
            decoderContext = try? context.pipeline.syncOperations.context(
                handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
        }
        guard let decoderContext, var held = inbound else { return false }
        let head = held.withUnsafeReadableBytes { request.requestHead(in: $0) }
        held.moveReaderIndex(forwardBy: request.headLength)
        inbound = held.readableBytes > 0 ? held : nil
        headSearchOffset = 0
        // Set before the parts go: the `ProxyHandler` may answer, or close the connection, while it reads them.
        mode = .ordinaryAwaitingAnswer
        codecReadsPending = true
        decoderContext.fireChannelRead(NIOAny(HTTPServerRequestPart.head(head)))
        decoderContext.fireChannelRead(NIOAny(HTTPServerRequestPart.end(nil)))
        return true
    }

    /// Before the codec takes the connection for good: NIO's pipelining handler, after the request decoder, then
    /// keeps one request at a time in the `ProxyHandler`, as this handler does until then. It is left out of the
    /// pipeline until needed because it stops the channel reading while an answer is due, which costs two
    /// `epoll_ctl` calls per request; this handler holds what comes early in memory instead.
    private func addPipeliningHandler(context: ChannelHandlerContext) -> Bool {
        let pipeline = context.pipeline.syncOperations
        do {
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(HTTPServerPipelineHandler(), position: .after(decoder.handler))
            return true
        } catch {
            services.logger.error("cannot hand a connection to the HTTP codec", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func releaseReadsIfPossible(context: ChannelHandlerContext) {
        guard pendingRead, (inbound?.readableBytes ?? 0) < Self.maximumHeldBytes else { return }
        pendingRead = false
        context.read()
    }

    /// The `ProxyHandler` answered the request the codec was given: the next one may be read.
    func ordinaryRequestAnswered() {
        idleSince = .now()
        guard mode == .ordinaryAwaitingAnswer, let context else { return }
        // Later, not inside the `ProxyHandler`'s call that ended its exchange.
        context.eventLoop.assumeIsolated().execute { [self] in
            guard mode == .ordinaryAwaitingAnswer, let context = self.context else { return }
            if quiescing {
                closeAfterWrites(context: context)
                return
            }
            if closesAfterOrdinary {
                closeAfterWrites(context: context)
                return
            }
            mode = .idle
            if process(context: context) { channelReadComplete(context: context) }
        }
    }

    /// The `ProxyHandler` closes the connection after its answer.
    func connectionWillClose() {
        if mode != .handedOver {
            mode = .closing
            inbound = nil
        }
    }

    /// Starts forwarding a pass-through request, or returns false when it is one for the codec after all (a
    /// page that may be personalized, a folder origin).
    private func startPassThrough(_ request: PassThroughRequest, context: ChannelHandlerContext) -> Bool {
        let configuration = holder.current
        guard case .http(let origin) = configuration.origin, let key = configuration.originConnectionKey,
            let pool = originPool, var held = inbound
        else { return false }
        // The path's bytes decide the route; a `String` of it is made only for a routed path's extension.
        let (route, path): (RouteTable.Match?, String?) = held.withUnsafeReadableBytes { bytes in
            var end = request.target.lowerBound
            while end < request.target.upperBound, bytes[end] != UInt8(ascii: "?") { end += 1 }
            let pathBytes = UnsafeRawBufferPointer(rebasing: bytes[request.target.lowerBound..<end])
            guard let route = configuration.routes.match(pathBytes: pathBytes) else { return (nil, nil) }
            return (route, String(decoding: pathBytes, as: UTF8.self))
        }
        let routeLabel: String
        if let route, let path {
            guard StaticFileContentTypes.isAsset(path: path) else { return false }
            routeLabel = route.label
        } else {
            routeLabel = "unrouted"
        }
        let originRequest = held.withUnsafeReadableBytes { bytes in
            originRequestBytes(request, bytes: bytes, configuration: configuration, basePath: origin.basePath)
        }
        held.moveReaderIndex(forwardBy: request.headLength)
        inbound = held.readableBytes > 0 ? held : nil
        headSearchOffset = 0
        exchangeCounter &+= 1
        idleSince = nil
        exchange = PassThroughExchange(
            id: exchangeCounter, configuration: configuration, routeLabel: routeLabel, started: .now(),
            request: originRequest, isHEAD: request.isHEAD, closeAfter: request.closeRequested || quiescing)
        mode = .passThrough
        if let connection = pool.takeIdlePassThroughConnection(for: key) {
            services.metrics.originConnection(reused: true)
            send(on: connection, reused: true, context: context)
        } else {
            connect(key: key, configuration: configuration, context: context)
        }
        return true
    }

    /// The request as the origin gets it, as `ProxyHandler.originRequestHead` builds it for the codec path:
    /// hop-by-hop fields removed, `Host` replaced unless kept, `X-Forwarded-*` set, in the same order.
    private func originRequestBytes(
        _ request: PassThroughRequest, bytes: UnsafeRawBufferPointer, configuration: ProxyConfiguration,
        basePath: String
    ) -> ByteBuffer {
        // The pieces from the client's head (method, target, kept lines, the Host and X-Forwarded-For values)
        // are disjoint ranges of it, but Host's value may go out twice; the rest is fixed and short.
        let maximumLength =
            2 * request.headLength + basePath.utf8.count + configuration.originHostLine.count
            + (clientAddress?.count ?? 0) + 128
        var buffer = context!.channel.allocator.buffer(capacity: maximumLength)
        buffer.writeHead(maximumLength: maximumLength) { out in
            out.append(UnsafeRawBufferPointer(rebasing: bytes[request.method]))
            out.append(" ")
            if !basePath.isEmpty { out.append(text: basePath) }
            out.append(UnsafeRawBufferPointer(rebasing: bytes[request.target]))
            out.append(" HTTP/1.1\r\n")
            let replacesHost = !configuration.preserveHost
            if replacesHost { configuration.originHostLine.withUnsafeBytes { out.append($0) } }
            var clientHost: Range<Int>?
            var forwardedFor: [Range<Int>] = []
            var hasForwardedProto = false
            var hasForwardedHost = false
            // Kept lines go out as the client wrote them (the scan checked every byte), consecutive ones in one copy.
            var run: Range<Int>?
            for field in request.fields {
                let keeps: Bool
                switch field.kind {
                case .hopByHop, .connection, .expect, .upgrade, .contentLength, .transferEncoding:
                    keeps = false
                case .host:
                    clientHost = field.value
                    keeps = !replacesHost
                case .forwardedFor:
                    if !field.value.isEmpty { forwardedFor.append(field.value) }
                    keeps = false
                case .forwardedProto:
                    hasForwardedProto = true
                    keeps = true
                case .forwardedHost:
                    hasForwardedHost = true
                    keeps = true
                case .other:
                    keeps = true
                }
                if keeps {
                    run = (run?.lowerBound ?? field.name.lowerBound)..<field.lineEnd
                } else if let kept = run {
                    out.append(UnsafeRawBufferPointer(rebasing: bytes[kept]))
                    run = nil
                }
            }
            if let kept = run { out.append(UnsafeRawBufferPointer(rebasing: bytes[kept])) }
            if clientAddress != nil || !forwardedFor.isEmpty {
                // Several fields are one comma-separated list; the proxy's entry goes last.
                out.append("X-Forwarded-For: ")
                for (index, value) in forwardedFor.enumerated() {
                    if index > 0 { out.append(", ") }
                    out.append(UnsafeRawBufferPointer(rebasing: bytes[value]))
                }
                if let clientAddress {
                    if !forwardedFor.isEmpty { out.append(", ") }
                    clientAddress.withUnsafeBytes { out.append($0) }
                }
                out.append("\r\n")
            }
            if !hasForwardedProto { out.append("X-Forwarded-Proto: http\r\n") }
            if !hasForwardedHost, let clientHost {
                out.append("X-Forwarded-Host: ")
                out.append(UnsafeRawBufferPointer(rebasing: bytes[clientHost]))
                out.append("\r\n")
            }
            out.append("\r\n")
        }
        return buffer
    }

    private func connect(key: OriginConnectionKey, configuration: ProxyConfiguration, context: ChannelHandlerContext) {
        guard let pool = originPool, let id = exchange?.id else { return }
        pool.connectPassThrough(key: key, tls: configuration.originTLS, connectTimeout: configuration.connectTimeout) {
            [self] result in
            guard let exchange = self.exchange, exchange.id == id, exchange.connection == nil,
                let context = self.context
            else {
                if case .success(let connection) = result { pool.release(connection, reusable: true) }
                return
            }
            switch result {
            case .failure(let error):
                self.services.metrics.originError(error)
                self.services.logger.warning("origin unreachable", metadata: ["error": "\(error)"])
                self.respondWithError(timedOut: false, context: context)
            case .success(let connection):
                self.services.metrics.originConnection(reused: false)
                self.send(on: connection, reused: false, context: context)
            }
        }
    }

    private func send(on connection: PassThroughOriginConnection, reused: Bool, context: ChannelHandlerContext) {
        guard let exchange else { return }
        exchange.connection = connection
        exchange.reusedConnection = reused
        exchange.response = .awaitingHead(nil)
        connection.attach(self)
        connection.setReadsHeld(!context.channel.isWritable)
        connection.writeAndFlush(exchange.request)
        let deadline = NIODeadline.now() + exchange.configuration.originTimeout
        exchange.deadline = deadline
        if originTimer == nil { armOriginTimer(at: deadline, context: context) }
    }

    private func armOriginTimer(at deadline: NIODeadline, context: ChannelHandlerContext) {
        originTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            originTimerFired()
        }
    }

    private func originTimerFired() {
        originTimer = nil
        guard let exchange, let deadline = exchange.deadline, let context else { return }
        let now = NIODeadline.now()
        guard deadline <= now else {
            armOriginTimer(at: deadline, context: context)
            return
        }
        if exchange.headSent, !context.channel.isWritable {
            // The origin's bytes wait for this client to read them: not the origin's delay (a client that stops
            // reading is idle_timeout's).
            exchange.deadline = now + exchange.configuration.originTimeout
            armOriginTimer(at: now + exchange.configuration.originTimeout, context: context)
            return
        }
        exchange.deadline = nil
        services.metrics.originError(.timeout)
        services.logger.warning(
            exchange.headSent ? "origin stopped sending its answer" : "origin timed out",
            metadata: ["route": "\(exchange.routeLabel)"])
        respondWithError(timedOut: true, context: context)
    }

    // MARK: answers

    /// Closes the connection once everything written so far is on its way (a plain close would drop writes
    /// still queued).
    private func closeAfterWrites(context: ChannelHandlerContext) {
        mode = .closing
        inbound = nil
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(ByteBuffer())), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }

    /// A 502 or 504 with the codec path's short plain page; after the response started, the client
    /// connection is cut instead, so a truncated body cannot look complete.
    private func respondWithError(timedOut: Bool, context: ChannelHandlerContext) {
        guard let exchange else { return }
        exchange.connection?.close()
        exchange.connection = nil
        exchange.deadline = nil
        let status = timedOut ? 504 : 502
        if exchange.headSent {
            self.exchange = nil
            routeRecorders.record(
                route: exchange.routeLabel, status: status, duration: exchange.elapsed(until: .now()),
                metrics: services.metrics)
            endConnection()
            context.close(promise: nil)
            return
        }
        let text = ProxyHandler.errorText(timedOut ? .gatewayTimeout : .badGateway)
        var out = context.channel.allocator.buffer(capacity: 256)
        out.writeStaticString(timedOut ? "HTTP/1.1 504 Gateway Timeout\r\n" : "HTTP/1.1 502 Bad Gateway\r\n")
        out.writeStaticString("Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: ")
        out.writeString(String(text.utf8.count))
        out.writeStaticString("\r\n")
        if exchange.closeAfter { out.writeStaticString("Connection: close\r\n") }
        out.writeStaticString("\r\n")
        if !exchange.isHEAD { out.writeString(text) }
        exchange.status = status
        exchange.headSent = true
        context.write(wrapOutboundOut(.byteBuffer(out)), promise: nil)
        finishExchange(reusable: false, context: context)
    }

    /// The response is complete: the origin connection goes back to the pool (or closes), the request is
    /// counted, and the next request may be read.
    private func finishExchange(reusable: Bool, context: ChannelHandlerContext) {
        guard let exchange else { return }
        self.exchange = nil
        if let connection = exchange.connection { originPool?.release(connection, reusable: reusable) }
        // One clock reading serves the request's duration and the connection's idle start.
        let now = NIODeadline.now()
        routeRecorders.record(
            route: exchange.routeLabel, status: exchange.status, duration: exchange.elapsed(until: now),
            metrics: services.metrics)
        if exchange.closeAfter || quiescing {
            closeAfterWrites(context: context)
            return
        }
        context.flush()
        mode = .idle
        idleSince = now
        if process(context: context) { channelReadComplete(context: context) }
    }
}

// MARK: origin events

extension PassThroughHandler: PassThroughOriginReceiver {
    func originBytes(_ buffer: ByteBuffer) {
        guard let context, let exchange else { return }
        switch exchange.response {
        case .awaitingHead(let partial):
            var bytes = buffer
            if var partial {
                exchange.response = .awaitingHead(nil)
                partial.writeBuffer(&bytes)
                bytes = partial
            }
            readHead(bytes, context: context)
        case .body(let body):
            forwardBody(buffer, body: body, prefix: nil, context: context)
        }
    }

    private func readHead(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        var bytes = buffer
        guard let exchange else { return }
        while true {
            let scan = bytes.withUnsafeReadableBytes {
                ResponseHeadScan.scan($0, requestIsHEAD: exchange.isHEAD, reusing: &responseFields)
            }
            switch scan {
            case .incomplete:
                exchange.response = .awaitingHead(bytes)
                return
            case .malformed(let reason):
                originFailed(.protocolError(reason), context: context)
                return
            case .complete(let head) where head.isInformational:
                var out = context.channel.allocator.buffer(capacity: head.clientHeadMaximumLength)
                bytes.withUnsafeReadableBytes { head.writeClientHead(from: $0, closing: false, into: &out) }
                // Hints are worth sending at once: the final answer may take a while.
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(out)), promise: nil)
                bytes.moveReaderIndex(forwardBy: head.headLength)
                guard bytes.readableBytes > 0 else {
                    exchange.response = .awaitingHead(nil)
                    return
                }
            case .complete(let head):
                let closing = exchange.closeAfter || quiescing
                let remaining = bytes.readableBytes - head.headLength
                // A tiny body is copied behind the head; a larger one follows it as its own buffer, and the two go
                // out in one `writev` at the flush: copying a 2 KB body cost about 3% of a 2 KB answer's CPU.
                let inline = remaining <= 512 ? remaining : 0
                var out = context.channel.allocator.buffer(capacity: head.clientHeadMaximumLength + inline)
                bytes.withUnsafeReadableBytes { head.writeClientHead(from: $0, closing: closing, into: &out) }
                bytes.moveReaderIndex(forwardBy: head.headLength)
                exchange.closeAfter = closing
                exchange.deadline = nil
                exchange.headSent = true
                exchange.status = head.status
                exchange.originKeepsAlive = head.keepsAlive
                let body: PassThroughExchange.Body
                switch head.framing {
                case .none: body = .length(0)
                case .length(let length): body = .length(length)
                case .chunked: body = .chunked(ChunkedBodyScanner())
                case .untilClose: body = .untilClose
                }
                exchange.response = .body(body)
                forwardBody(bytes, body: body, prefix: out, context: context)
                return
            }
        }
    }

    /// Sends body bytes on, ending the exchange where the framing says the body ends.
    private func forwardBody(
        _ buffer: ByteBuffer, body: PassThroughExchange.Body, prefix: ByteBuffer?, context: ChannelHandlerContext
    ) {
        guard let exchange else { return }
        var bytes = buffer
        var out = prefix
        func send(_ part: ByteBuffer) {
            guard part.readableBytes > 0 else { return }
            if out != nil, part.readableBytes <= out!.writableBytes {
                var part = part
                out!.writeBuffer(&part)
            } else {
                if let pending = out { context.write(wrapOutboundOut(.byteBuffer(pending)), promise: nil) }
                out = nil
                context.write(wrapOutboundOut(.byteBuffer(part)), promise: nil)
            }
        }
        func flushOut() {
            if let pending = out { context.write(wrapOutboundOut(.byteBuffer(pending)), promise: nil) }
            out = nil
        }
        switch body {
        case .length(let remaining):
            let count = min(remaining, bytes.readableBytes)
            send(bytes.readSlice(length: count)!)
            flushOut()
            if count == remaining {
                let reusable = exchange.originKeepsAlive && bytes.readableBytes == 0
                finishExchange(reusable: reusable, context: context)
                return
            }
            exchange.response = .body(.length(remaining - count))
        case .chunked(var scanner):
            let end: Int?
            do {
                end = try bytes.withUnsafeReadableBytes { bytes throws(ChunkedBodyScanner.Malformed) in
                    try scanner.scan(bytes)
                }
            } catch {
                flushOut()
                originFailed(.protocolError(error.reason), context: context)
                return
            }
            if let end {
                send(bytes.readSlice(length: end)!)
                flushOut()
                let reusable = exchange.originKeepsAlive && bytes.readableBytes == 0
                finishExchange(reusable: reusable, context: context)
                return
            }
            send(bytes)
            flushOut()
            exchange.response = .body(.chunked(scanner))
        case .untilClose:
            // The client gets the body chunked, so its connection outlives the origin's.
            if bytes.readableBytes > 0 {
                var frame = context.channel.allocator.buffer(capacity: 20)
                frame.writeString(String(bytes.readableBytes, radix: 16))
                frame.writeStaticString("\r\n")
                send(frame)
                send(bytes)
                var end = context.channel.allocator.buffer(capacity: 2)
                end.writeStaticString("\r\n")
                send(end)
            }
            flushOut()
        }
        if !context.channel.isWritable { exchange.connection?.setReadsHeld(true) }
        // The rest of the body is due within origin.timeout of each read.
        let deadline = NIODeadline.now() + exchange.configuration.originTimeout
        exchange.deadline = deadline
        if originTimer == nil { armOriginTimer(at: deadline, context: context) }
    }

    func originReadComplete() {
        guard exchange?.headSent == true, let context else { return }
        context.flush()
    }

    func originClosed(_ error: OriginError, cleanly: Bool) {
        guard let context else { return }
        originFailed(error, cleanly: cleanly, context: context)
    }

    /// The origin connection ended or sent something unreadable.
    private func originFailed(_ error: OriginError, cleanly: Bool = false, context: ChannelHandlerContext) {
        guard let exchange else { return }
        let connection = exchange.connection
        exchange.connection = nil
        if case .body(.untilClose) = exchange.response, cleanly {
            var end = context.channel.allocator.buffer(capacity: 5)
            end.writeStaticString("0\r\n\r\n")
            context.write(wrapOutboundOut(.byteBuffer(end)), promise: nil)
            finishExchange(reusable: false, context: context)
            return
        }
        connection?.close()
        // A kept-alive connection that the origin closed while idle: the bodiless request goes again, once,
        // on a new connection, if nothing of an answer came.
        if case .reset = error, case .awaitingHead(nil) = exchange.response, exchange.reusedConnection,
            !exchange.retried, let key = exchange.configuration.originConnectionKey
        {
            exchange.retried = true
            exchange.deadline = nil
            connect(key: key, configuration: exchange.configuration, context: context)
            return
        }
        services.metrics.originError(error)
        services.logger.warning("origin failed", metadata: ["error": "\(error)", "route": "\(exchange.routeLabel)"])
        respondWithError(timedOut: false, context: context)
    }
}

/// One request on the pass-through path, from its head to the end of its response. A class: the handler
/// updates it from several callbacks, and a struct in an optional would be copied on each read.
final class PassThroughExchange {
    enum Response {
        /// The response head is due; bytes of an incomplete head are held.
        case awaitingHead(ByteBuffer?)
        case body(Body)
    }

    enum Body {
        /// Bytes still to come (0: the response ended with its head).
        case length(Int)
        case chunked(ChunkedBodyScanner)
        /// Until the origin closes; forwarded to the client chunked.
        case untilClose
    }

    let id: UInt64
    let configuration: ProxyConfiguration
    let routeLabel: String
    let started: NIODeadline
    /// The origin request, kept for the one retry on a fresh connection.
    let request: ByteBuffer
    let isHEAD: Bool
    /// The response is the connection's last: the client asked, or the server is shutting down.
    var closeAfter: Bool
    var connection: PassThroughOriginConnection?
    var reusedConnection = false
    var retried = false
    /// When the response head, or the next bytes of the body, are due (`origin.timeout` after the request or
    /// the last read).
    var deadline: NIODeadline?
    var response = Response.awaitingHead(nil)
    var headSent = false
    var status = 0
    var originKeepsAlive = true

    init(
        id: UInt64, configuration: ProxyConfiguration, routeLabel: String, started: NIODeadline,
        request: ByteBuffer, isHEAD: Bool, closeAfter: Bool
    ) {
        self.id = id
        self.configuration = configuration
        self.routeLabel = routeLabel
        self.started = started
        self.request = request
        self.isHEAD = isHEAD
        self.closeAfter = closeAfter
    }

    func elapsed(until now: NIODeadline) -> Duration {
        .nanoseconds((now - started).nanoseconds)
    }
}
