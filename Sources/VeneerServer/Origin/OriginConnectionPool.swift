import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Idle keep-alive origin connections of one event loop. A client connection borrows a connection on its
/// own loop, so request and response parts move channel to channel with no thread hop.
/// Used only on `eventLoop`.
final class OriginConnectionPool {
    let eventLoop: any EventLoop
    private var idle = IdleConnectionList<OriginConnection>()
    /// Connections without an HTTP codec, for the pass-through path (`OriginConnectionPool+PassThrough`).
    var passThroughIdle = IdleConnectionList<PassThroughOriginConnection>()
    private(set) var maximumIdlePerKey: Int
    /// The proxy exchanges of this loop in progress.
    let activity = LoopActivity()

    init(eventLoop: any EventLoop, maximumIdlePerKey: Int) {
        self.eventLoop = eventLoop
        self.maximumIdlePerKey = maximumIdlePerKey
    }

    /// Number of idle connections held, for tests and metrics.
    var idleCount: Int {
        idle.count + passThroughIdle.count
    }

    /// An idle connection to `key` that is still alive, taken out of the pool; nil when there is none.
    /// Synchronous, so the common case of a request costs no callback.
    func takeIdleConnection(for key: OriginConnectionKey) -> OriginConnection? {
        eventLoop.preconditionInEventLoop()
        while let connection = idle.popLast(for: key) {
            connection.pool = nil
            if connection.isActive { return connection }
        }
        return nil
    }

    /// Hands an idle connection to `origin` when one is alive (`reused` true), else a new one, to
    /// `completion` on this loop. `fresh` skips the idle ones (a retry after a stale connection).
    func acquire(
        _ origin: OriginTarget.HTTPOrigin, tls: OriginTLS? = nil, connectTimeout: TimeAmount, fresh: Bool = false,
        completion: @escaping (Result<(connection: OriginConnection, reused: Bool), OriginError>) -> Void
    ) {
        eventLoop.preconditionInEventLoop()
        let key = OriginConnectionKey(host: origin.host, port: origin.port, isTLS: origin.isTLS)
        if !fresh, let connection = takeIdleConnection(for: key) {
            completion(.success((connection, true)))
            return
        }
        connectChannel(key: key, tls: tls, connectTimeout: connectTimeout) { result in
            completion(
                result.flatMap { channel in
                    do {
                        return .success((try OriginConnection.configure(channel, key: key), false))
                    } catch {
                        channel.close(promise: nil)
                        return .failure(.connectFailed("\(error)"))
                    }
                })
        }
    }

    /// Opens a channel to `key`, with TLS when the origin is https, and nothing else in its pipeline yet.
    func connectChannel(
        key: OriginConnectionKey, tls: OriginTLS?, connectTimeout: TimeAmount,
        completion: @escaping (Result<any Channel, OriginError>) -> Void
    ) {
        if key.isTLS, tls == nil {
            completion(.failure(.tls("an https origin without TLS settings")))
            return
        }
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if key.isTLS, let tls {
            // The handshake runs when the request is first flushed; its failure reaches the exchange as `.tls`.
            bootstrap = bootstrap.channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try tls.makeHandler())
                }
            }
        }
        bootstrap.connect(host: key.host, port: key.port).assumeIsolated().whenComplete { result in
            completion(result.mapError { .connectFailed("\($0)") })
        }
    }

    /// Gives a connection back after its exchange; it is kept only when reusable and there is room.
    func release(_ connection: OriginConnection) {
        eventLoop.preconditionInEventLoop()
        connection.detach()
        guard connection.isReusable else {
            connection.close()
            return
        }
        guard idle.count(for: connection.key) < maximumIdlePerKey else {
            connection.close()
            return
        }
        idle.append(connection, for: connection.key)
        connection.pool = self
    }

    /// An idle connection that the origin closed leaves the pool.
    func idleConnectionClosed(_ connection: OriginConnection) {
        idle.remove(connection, for: connection.key)
    }

    /// Closes every idle connection (shutdown, or an origin change on reload).
    func closeAll() {
        eventLoop.preconditionInEventLoop()
        let all = idle.all
        idle.removeAll()
        for connection in all {
            connection.pool = nil
            connection.close()
        }
        let passThrough = passThroughIdle.all
        passThroughIdle.removeAll()
        for connection in passThrough {
            connection.pool = nil
            connection.close()
        }
    }

    func setMaximumIdle(_ maximum: Int) {
        maximumIdlePerKey = max(0, maximum)
    }
}

/// One `OriginConnectionPool` per event loop of the proxy's group.
final class OriginConnectionPools: Sendable {
    private let pools: NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<OriginConnectionPool>]>
    private let maximumIdlePerKey: NIOLockedValueBox<Int>

    init(maximumIdlePerKey: Int) {
        self.pools = NIOLockedValueBox([:])
        self.maximumIdlePerKey = NIOLockedValueBox(maximumIdlePerKey)
    }

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> OriginConnectionPool {
        let id = ObjectIdentifier(eventLoop)
        let bound = pools.withLockedValue { pools in
            if let existing = pools[id] { return existing }
            let maximum = maximumIdlePerKey.withLockedValue { $0 }
            let created = NIOLoopBound(
                OriginConnectionPool(eventLoop: eventLoop, maximumIdlePerKey: maximum), eventLoop: eventLoop)
            pools[id] = created
            return created
        }
        return bound.value
    }

    /// Closes the idle connections of every loop (after an origin change, or at shutdown).
    func closeIdleConnections() -> EventLoopFuture<Void>? {
        let all = pools.withLockedValue { Array($0.values) }
        guard let first = all.first else { return nil }
        let futures = all.map { bound in
            bound.eventLoop.submit { bound.value.closeAll() }
        }
        return EventLoopFuture.andAllComplete(futures, on: first.eventLoop)
    }
}
