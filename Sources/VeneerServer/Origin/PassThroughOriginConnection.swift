import NIOCore

/// Receives an origin's bytes on the pass-through path; every call comes on the event loop that the client
/// and origin channels share.
protocol PassThroughOriginReceiver: AnyObject {
    func originBytes(_ buffer: ByteBuffer)
    /// A batch of reads is done: the moment to flush what was forwarded.
    func originReadComplete()
    /// The connection closed or failed; nothing more comes. `cleanly`: the origin closed it without an error,
    /// which ends a body framed by the close; a reset or a TLS truncation does not.
    func originClosed(_ error: OriginError, cleanly: Bool)
}

/// A keep-alive connection to the origin with no HTTP codec: the pass-through path writes request heads as
/// bytes and reads the response as bytes, finding its end itself. Owned by the per-event-loop
/// `OriginConnectionPool` while idle and by one client connection while busy; used only on its event loop.
final class PassThroughOriginConnection {
    let channel: any Channel
    let key: OriginConnectionKey
    fileprivate let handler: PassThroughOriginHandler
    /// The pool holding this connection while it is idle, told when the origin closes it; nil while in use.
    /// Strong, and set only while the pool holds the connection: a weak reference to the pool would give it a
    /// side table, and every retain and release of the pool (one per request) would take the slow path.
    var pool: OriginConnectionPool?

    fileprivate init(channel: any Channel, key: OriginConnectionKey, handler: PassThroughOriginHandler) {
        self.channel = channel
        self.key = key
        self.handler = handler
    }

    var isActive: Bool { channel.isActive && !handler.isClosing }

    /// Binds the connection to a receiver until `detach`, `close` or the connection's end, which all let it go.
    func attach(_ receiver: any PassThroughOriginReceiver) {
        handler.receiver = receiver
    }

    func detach() {
        handler.receiver = nil
    }

    func writeAndFlush(_ buffer: ByteBuffer) {
        handler.writeAndFlush(buffer)
    }

    /// Download backpressure: stop reading from the origin while the client cannot take more.
    func setReadsHeld(_ held: Bool) {
        handler.setReadsHeld(held)
    }

    /// Closes the connection; the receiver hears nothing more from it.
    func close() {
        handler.receiver = nil
        handler.isClosing = true
        channel.close(promise: nil)
    }

    static func configure(_ channel: any Channel, key: OriginConnectionKey) throws -> PassThroughOriginConnection {
        let handler = PassThroughOriginHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        let connection = PassThroughOriginConnection(channel: channel, key: key, handler: handler)
        handler.connection = connection
        return connection
    }
}

/// Hands the origin's bytes to the receiver and holds reads while the client cannot take more.
private final class PassThroughOriginHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Strong, and let go by `detach`, `close` and the connection's end: a weak reference to the client's handler
    /// would put every retain of it on the slow path, and cost a weak load per read.
    var receiver: (any PassThroughOriginReceiver)?
    /// Strong, let go when the handler leaves the closed channel's pipeline: a weak reference would put every
    /// retain and release of the connection, several per request, on the slow path.
    var connection: PassThroughOriginConnection?
    var isClosing = false
    private var readGate = OriginReadGate()
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        connection = nil
    }

    func setReadsHeld(_ held: Bool) {
        readGate.setHeld(held, context: context)
    }

    /// From this handler's place, not the channel's tail: the pipeline behind it holds nothing to pass, and
    /// entering at the tail costs the walk to here on every request.
    func writeAndFlush(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        readGate.read(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let receiver else {
            // Bytes from an idle connection answer nothing that was asked: it cannot be trusted again.
            isClosing = true
            context.close(promise: nil)
            return
        }
        receiver.originBytes(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.originReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        if let receiver {
            self.receiver = nil
            receiver.originClosed(.reset, cleanly: true)
        } else if let connection, let pool = connection.pool {
            connection.pool = nil
            pool.idlePassThroughConnectionClosed(connection)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isClosing = true
        if let receiver {
            self.receiver = nil
            receiver.originClosed(OriginError(channelError: error), cleanly: false)
        }
        context.close(promise: nil)
    }
}
