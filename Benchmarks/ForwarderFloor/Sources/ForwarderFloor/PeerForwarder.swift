import NIOCore

/// Writes what its channel reads to a peer channel on the same event loop, translated by `translate`.
///
/// What arrives before the peer is connected waits in memory; each read batch is flushed at once. There is no
/// back-pressure: the floor is measured with pages that fit in one socket buffer.
///
/// ```swift
/// let forwarder = PeerForwarder<ByteBuffer, ByteBuffer>(peer: nil) { $0 }
/// try clientChannel.pipeline.syncOperations.addHandler(forwarder)
/// // … once the origin connection is open:
/// forwarder.connect(to: originChannel)
/// ```
final class PeerForwarder<Inbound, Outbound: Sendable>: ChannelInboundHandler {
    typealias InboundIn = Inbound

    private let translate: (Inbound) -> Outbound
    private var peer: (any Channel)?
    private var waiting: [Outbound] = []

    init(peer: (any Channel)?, translate: @escaping (Inbound) -> Outbound) {
        self.peer = peer
        self.translate = translate
    }

    func connect(to peer: any Channel) {
        self.peer = peer
        for message in waiting { peer.write(message, promise: nil) }
        waiting.removeAll()
        peer.flush()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = translate(Self.unwrapInboundIn(data))
        if let peer {
            peer.write(message, promise: nil)
        } else {
            waiting.append(message)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        peer?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

// One event loop owns both channels of a pair, and the forwarder is only touched there.
extension PeerForwarder: @unchecked Sendable {}
