// The floor under scripts/bench-proxy's pass-through cases, with no proxy logic at all:
//   tcp    bytes copied between a client connection and its own origin connection;
//   http1  NIOHTTP1's server codec on the client side and client codec on the origin side, request and
//          response parts forwarded channel to channel with no task hop.
// Each client connection gets one origin connection on the same event loop, kept while both are open.
//
//   ForwarderFloor tcp|http1 LISTEN_PORT ORIGIN_PORT     (both on 127.0.0.1)
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 4, ["tcp", "http1"].contains(arguments[1]),
    let listenPort = Int(arguments[2]), let originPort = Int(arguments[3])
else {
    print("usage: ForwarderFloor tcp|http1 LISTEN_PORT ORIGIN_PORT")
    exit(2)
}
let http1 = arguments[1] == "http1"
let origin = try SocketAddress(ipAddress: "127.0.0.1", port: originPort)
let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

@Sendable func pairBytes(client: any Channel) throws -> EventLoopFuture<Void> {
    let toOrigin = PeerForwarder<ByteBuffer, ByteBuffer>(peer: nil) { $0 }
    try client.pipeline.syncOperations.addHandler(toOrigin)
    return ClientBootstrap(group: client.eventLoop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { originChannel in
            originChannel.eventLoop.makeCompletedFuture {
                try originChannel.pipeline.syncOperations.addHandler(
                    PeerForwarder<ByteBuffer, ByteBuffer>(peer: client) { $0 })
            }
        }
        .connect(to: origin)
        .map { toOrigin.connect(to: $0) }
}

@Sendable func pairHTTPParts(client: any Channel) throws -> EventLoopFuture<Void> {
    try client.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
    let toOrigin = PeerForwarder<HTTPServerRequestPart, HTTPClientRequestPart>(peer: nil) { part in
        switch part {
        case .head(let head): .head(head)
        case .body(let buffer): .body(.byteBuffer(buffer))
        case .end(let trailers): .end(trailers)
        }
    }
    try client.pipeline.syncOperations.addHandler(toOrigin)
    return ClientBootstrap(group: client.eventLoop)
        .channelOption(.socketOption(.tcp_nodelay), value: 1)
        .channelInitializer { originChannel in
            originChannel.eventLoop.makeCompletedFuture {
                try originChannel.pipeline.syncOperations.addHTTPClientHandlers()
                try originChannel.pipeline.syncOperations.addHandler(
                    PeerForwarder<HTTPClientResponsePart, HTTPServerResponsePart>(peer: client) { part in
                        switch part {
                        case .head(let head): .head(head)
                        case .body(let buffer): .body(.byteBuffer(buffer))
                        case .end(let trailers): .end(trailers)
                        }
                    })
            }
        }
        .connect(to: origin)
        .map { toOrigin.connect(to: $0) }
}

let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 512)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { client in
        do {
            return try http1 ? pairHTTPParts(client: client) : pairBytes(client: client)
        } catch {
            return client.eventLoop.makeFailedFuture(error)
        }
    }
let server: any Channel
do {
    server = try bootstrap.bind(host: "127.0.0.1", port: listenPort).wait()
} catch {
    print("ForwarderFloor: cannot listen on 127.0.0.1:\(listenPort): \(error)")
    exit(1)
}
print("ForwarderFloor \(arguments[1]) on 127.0.0.1:\(listenPort) → 127.0.0.1:\(originPort)")
// The benchmark script stops it with SIGTERM; nothing needs draining.
try server.closeFuture.wait()
