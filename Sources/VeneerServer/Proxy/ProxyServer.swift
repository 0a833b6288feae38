import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import VeneerCore

/// The public listener: per connection, a `PassThroughHandler` that forwards plain requests as bytes, then
/// NIO's HTTP/1 server codec and a `ProxyHandler` for the rest, on a multi-threaded event loop group whose
/// loops also own the origin connection pools.
///
/// ```swift
/// let server = ProxyServer(holder: holder, services: services, group: group)
/// try await server.start(host: "127.0.0.1", port: 8080)
/// …
/// await server.shutdown(deadline: .seconds(10))
/// ```
final class ProxyServer: Sendable {
    let holder: ProxyConfigurationHolder
    let services: ProxyServices
    let group: any EventLoopGroup
    let pools: OriginConnectionPools
    private let state = NIOLockedValueBox<State>(State())

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    init(holder: ProxyConfigurationHolder, services: ProxyServices, group: any EventLoopGroup) {
        self.holder = holder
        self.services = services
        self.group = group
        self.pools = OriginConnectionPools(
            maximumIdlePerKey: holder.current.config.origin.maxIdleConnectionsPerLoop)
    }

    /// The bound address (port 0 in the configuration picks a free one).
    var localAddress: SocketAddress? {
        state.withLockedValue { $0.serverChannel?.localAddress }
    }

    var openConnections: Int {
        state.withLockedValue { $0.connections.count }
    }

    /// The client connections open now.
    var connectionChannels: [any Channel] {
        state.withLockedValue { Array($0.connections.values) }
    }

    func start(host: String, port: Int) async throws {
        let holder = self.holder
        let services = self.services
        let pools = self.pools
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    let front = PassThroughHandler(holder: holder, services: services, pools: pools)
                    try channel.pipeline.syncOperations.addHandler(front)
                    // One request at a time reaches the codec: the pass-through handler holds the next until the
                    // answer, and adds NIO's pipelining handler if it hands the connection over.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: false, withErrorHandling: true)
                    let proxy = ProxyHandler(holder: holder, services: services, pools: pools)
                    proxy.passThrough = front
                    try channel.pipeline.syncOperations.addHandler(proxy)
                }
            }
            .bind(host: host, port: port).get()
        state.withLockedValue { $0.serverChannel = channel }
        services.logger.info("proxy listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLockedValue { $0.connections.removeValue(forKey: id) }
        }
    }

    /// Stops accepting, lets requests in flight finish (idle keep-alive connections close at once), and cuts
    /// whatever is left at the deadline.
    func shutdown(deadline: Duration) async {
        let (server, connections) = state.withLockedValue { state in
            let server = state.serverChannel
            state.serverChannel = nil
            return (server, Array(state.connections.values))
        }
        try? await server?.close()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while clock.now < end, openConnections > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for connection in connectionChannels { try? await connection.close() }
        if let closing = pools.closeIdleConnections() { try? await closing.get() }
    }
}
