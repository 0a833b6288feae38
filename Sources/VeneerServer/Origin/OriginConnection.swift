import NIOCore
import NIOHTTP1
import NIOSSL

/// Receives what an origin answers. The proxy's request exchange implements it; every call comes on the
/// event loop that both channels share.
protocol OriginResponseReceiver: AnyObject {
    func originResponseHead(_ head: HTTPResponseHead)
    func originResponseBody(_ buffer: ByteBuffer)
    func originResponseEnd()
    /// A batch of reads is done: the moment to flush what was forwarded.
    func originReadComplete()
    func originFailed(_ error: OriginError)
    /// The origin connection's send buffer drained or filled up: upload backpressure.
    func originWritabilityChanged(isWritable: Bool)
}

/// One keep-alive HTTP/1.1 connection to the origin, owned by a per-event-loop `OriginConnectionPool`
/// while idle and by one request exchange while busy. Everything runs on its event loop.
final class OriginConnection {
    /// The most one read of an origin connection takes.
    static let largestRead = 256 * 1024

    let channel: any Channel
    let key: OriginConnectionKey
    fileprivate let handler: OriginConnectionHandler
    /// Requests served on this connection so far; 0 while the first is in flight.
    private(set) var completedExchanges = 0
    /// The pool holding this connection while it is idle, told when the origin closes it; nil while in use.
    /// Strong for the reason `PassThroughOriginConnection.pool` gives.
    var pool: OriginConnectionPool?

    fileprivate init(channel: any Channel, key: OriginConnectionKey, handler: OriginConnectionHandler) {
        self.channel = channel
        self.key = key
        self.handler = handler
    }

    var isActive: Bool { channel.isActive && !handler.isClosing }
    var isWritable: Bool { channel.isWritable }
    /// True once a full response arrived on a connection that both sides keep alive.
    var isReusable: Bool { handler.isReusable && isActive }

    /// Binds the connection to one exchange; the receiver is held weakly.
    func attach(_ receiver: any OriginResponseReceiver) {
        handler.beginExchange(receiver)
    }

    func detach() {
        handler.receiver = nil
        completedExchanges += 1
    }

    func write(_ part: HTTPClientRequestPart) {
        handler.noteOutbound(part)
        channel.write(part, promise: nil)
    }

    func flush() {
        channel.flush()
    }

    /// Download backpressure: stop reading from the origin while the client cannot take more.
    func setReadsHeld(_ held: Bool) {
        handler.setReadsHeld(held)
    }

    /// Closes the connection; the exchange hears nothing more from it.
    func close() {
        handler.receiver = nil
        handler.isClosing = true
        channel.close(promise: nil)
    }

    static func configure(_ channel: any Channel, key: OriginConnectionKey) throws -> OriginConnection {
        // Reads grow to `largestRead` (NIO's default stops at 64 KiB): a page of up to that size then arrives in
        // one read, and the proxy keeps it as it came instead of copying reads together.
        try channel.syncOptions?.setOption(
            .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: largestRead))
        let handler = OriginConnectionHandler()
        try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
        try channel.pipeline.syncOperations.addHandler(handler)
        let connection = OriginConnection(channel: channel, key: key, handler: handler)
        handler.connection = connection
        return connection
    }
}

/// What identifies interchangeable connections in a pool.
struct OriginConnectionKey: Hashable {
    var host: String
    var port: Int
    var isTLS: Bool
}

/// The channel handler of an origin connection: it hands response parts to the exchange and holds reads
/// while the client side cannot take more.
private final class OriginConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    weak var receiver: (any OriginResponseReceiver)?
    /// Its connection, for the pool to drop when the origin closes it while idle. Strong, let go when the handler
    /// leaves the closed channel's pipeline, as in `PassThroughOriginHandler`.
    var connection: OriginConnection?
    var isClosing = false

    private var readGate = OriginReadGate()
    private var context: ChannelHandlerContext?
    private var requestComplete = true
    private var responseComplete = true
    private var requestKeepAlive = true
    private var responseKeepAlive = true

    var isReusable: Bool {
        requestComplete && responseComplete && requestKeepAlive && responseKeepAlive && !isClosing
    }

    func beginExchange(_ receiver: any OriginResponseReceiver) {
        self.receiver = receiver
        requestComplete = false
        responseComplete = false
        requestKeepAlive = true
        responseKeepAlive = true
    }

    func noteOutbound(_ part: HTTPClientRequestPart) {
        switch part {
        case .head(let head):
            requestKeepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            requestComplete = true
        }
    }

    func setReadsHeld(_ held: Bool) {
        readGate.setHeld(held, context: context)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connection = nil
    }

    func read(context: ChannelHandlerContext) {
        readGate.read(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseKeepAlive = head.isKeepAlive
            receiver?.originResponseHead(head)
        case .body(let buffer):
            receiver?.originResponseBody(buffer)
        case .end:
            responseComplete = true
            let receiver = self.receiver
            if !requestComplete || !requestKeepAlive || !responseKeepAlive {
                // The origin answered before the upload finished, or asked to close: never reuse.
                isClosing = true
            }
            receiver?.originResponseEnd()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.originReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.originWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        if !responseComplete, let receiver {
            self.receiver = nil
            receiver.originFailed(.reset)
        } else if receiver == nil, let connection, let pool = connection.pool {
            connection.pool = nil
            pool.idleConnectionClosed(connection)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isClosing = true
        if !responseComplete, let receiver {
            self.receiver = nil
            if error is HTTPParserError {
                receiver.originFailed(.protocolError("\(error)"))
            } else {
                receiver.originFailed(OriginError(channelError: error))
            }
        }
        context.close(promise: nil)
    }
}

extension OriginError {
    /// What a failure on an origin channel means to the request waiting on it.
    init(channelError error: any Error) {
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            // A close without close_notify: to the exchange, the connection simply ended early.
            self = .reset
        } else if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError {
            self = .tls("\(error)")
        } else {
            self = .reset
        }
    }
}
