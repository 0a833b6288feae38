import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP relay on 127.0.0.1 in front of a real server (PostgreSQL, for the decision budget test) that can
/// stall: while stalled, what clients send is held, not forwarded, so the server seems to stop answering —
/// a database that hangs, not one that is down. `resume()` forwards what was held and lets traffic flow.
///
/// ```swift
/// let relay = try await StallingRelay.start(targetHost: "127.0.0.1", targetPort: 5432)
/// relay.stall()    // queries through relay.port now wait
/// relay.resume()   // and complete
/// try await relay.stop()
/// ```
final class StallingRelay: Sendable {
    private let server: any Channel
    private let state = NIOLockedValueBox(State())

    private struct State {
        var stalled = false
        var halves: [RelayHalf] = []
    }

    var port: Int { server.localAddress?.port ?? 0 }

    private init(server: any Channel) {
        self.server = server
    }

    static func start(targetHost: String, targetPort: Int) async throws -> StallingRelay {
        let box = NIOLockedValueBox<StallingRelay?>(nil)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { inbound in
                // Both sides of a connection live on the accepted channel's loop.
                ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: targetHost, port: targetPort)
                    .flatMap { outbound in
                        guard let relay = box.withLockedValue({ $0 }) else {
                            return inbound.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                        }
                        let toServer = RelayHalf(relay: relay, peer: outbound, holdsWhenStalled: true)
                        let toClient = RelayHalf(relay: relay, peer: inbound, holdsWhenStalled: false)
                        relay.register(toServer)
                        return inbound.pipeline.addHandler(toServer).flatMap {
                            outbound.pipeline.addHandler(toClient)
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let relay = StallingRelay(server: server)
        box.withLockedValue { $0 = relay }
        return relay
    }

    var isStalled: Bool { state.withLockedValue { $0.stalled } }

    func stall() {
        state.withLockedValue { $0.stalled = true }
    }

    func resume() {
        let halves = state.withLockedValue { state in
            state.stalled = false
            return state.halves
        }
        for half in halves { half.releaseHeld() }
    }

    func stop() async throws {
        resume()
        let halves = state.withLockedValue { $0.halves }
        for half in halves { half.close() }
        try await server.close()
    }

    fileprivate func register(_ half: RelayHalf) {
        state.withLockedValue { $0.halves.append(half) }
    }
}

/// One direction of a relayed connection: reads from its channel, writes to the peer.
private final class RelayHalf: ChannelInboundHandler, @unchecked Sendable {
    // Mutable state is touched only on `peer.eventLoop`, which is also the loop of the channel it reads.
    typealias InboundIn = ByteBuffer

    private let relay: StallingRelay
    private let peer: any Channel
    private let holdsWhenStalled: Bool
    private var held: [ByteBuffer] = []
    private var context: ChannelHandlerContext?

    init(relay: StallingRelay, peer: any Channel, holdsWhenStalled: Bool) {
        self.relay = relay
        self.peer = peer
        self.holdsWhenStalled = holdsWhenStalled
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        // Held bytes go first: nothing overtakes them once the relay resumes.
        if holdsWhenStalled, relay.isStalled || !held.isEmpty {
            held.append(buffer)
        } else {
            peer.writeAndFlush(buffer, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func releaseHeld() {
        peer.eventLoop.execute {
            let buffers = self.held
            self.held.removeAll()
            for buffer in buffers { self.peer.write(buffer, promise: nil) }
            self.peer.flush()
        }
    }

    func close() {
        peer.close(promise: nil)
        peer.eventLoop.execute { self.context?.close(promise: nil) }
    }
}
