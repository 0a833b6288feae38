import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A client that reads nothing until told to, and then only counts bytes: with a large answer, the proxy's
/// writes fill the socket buffers on both sides and stop, as they do for a slow or stuck client.
struct PausedReader {
    let channel: any Channel
    let received: NIOLockedValueBox<Int>

    static func connect(port: Int) async throws -> PausedReader {
        let received = NIOLockedValueBox(0)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteCounter(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return PausedReader(channel: channel, received: received)
    }

    var receivedBytes: Int { received.withLockedValue { $0 } }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    func startReading() async throws {
        try await channel.setOption(.autoRead, value: true).get()
        channel.read()
    }

    private final class ByteCounter: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<Int>
        init(received: NIOLockedValueBox<Int>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let count = unwrapInboundIn(data).readableBytes
            received.withLockedValue { $0 += count }
        }
    }
}
