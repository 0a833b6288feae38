import NIOCore
import NIOPosix
import Testing

@testable import VeneerServer

/// An origin connection holds its pool while idle in it, and its channel handler holds the connection, by strong
/// references: weak ones give the pool and the connection side tables, and put every retain and release of them
/// (several per request) on the runtime's slow path. These tests check that the references are let go: a closed
/// connection is freed, whoever closed it, on both kinds of connection.
@Suite("Origin connections: lifetimes")
struct OriginConnectionLifetimeTests {
    /// What a test reads back from the event loop.
    final class Probe: @unchecked Sendable {
        weak var connection: AnyObject?
        var idleCount = -1
        var heldByPool = false
    }

    /// Takes one answer's bytes and gives the connection back to its pool.
    final class Receiver: PassThroughOriginReceiver {
        let answered: () -> Void
        init(answered: @escaping () -> Void) { self.answered = answered }
        func originBytes(_ buffer: ByteBuffer) { answered() }
        func originReadComplete() {}
        func originClosed(_ error: OriginError, cleanly: Bool) {}
    }

    static let request = ByteBuffer(string: "GET /x HTTP/1.1\r\nHost: origin.test\r\n\r\n")

    @Test(
        "an idle pass-through connection is freed once closed, by the origin or by the pool's closeAll",
        arguments: [true, false])
    func passThroughConnection(originCloses: Bool) async throws {
        let origin = try await ScriptedOrigin.start { _ in .ok("x") }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let pool = try await Self.pool(on: loop)
        let key = OriginConnectionKey(host: "127.0.0.1", port: origin.port, isTLS: false)
        let probe = Probe()
        let idle = loop.makePromise(of: Void.self)
        loop.execute {
            pool.value.connectPassThrough(key: key, tls: nil, connectTimeout: .seconds(5)) { result in
                guard case .success(let connection) = result else { return idle.fail(OriginError.reset) }
                connection.attach(
                    Receiver { [connection] in
                        pool.value.release(connection, reusable: true)
                        probe.connection = connection
                        probe.heldByPool = connection.pool === pool.value
                        idle.succeed()
                    })
                connection.writeAndFlush(Self.request)
            }
        }
        try await idle.futureResult.get()
        try await Self.expectIdleThenFreed(pool: pool, probe: probe, origin: origin, originCloses: originCloses)
    }

    @Test(
        "an idle connection of the codec path is freed once closed, by the origin or by the pool's closeAll",
        arguments: [true, false])
    func codecConnection(originCloses: Bool) async throws {
        let origin = try await ScriptedOrigin.start { _ in .ok("x") }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let pool = try await Self.pool(on: loop)
        let target = OriginTarget.HTTPOrigin(host: "127.0.0.1", port: origin.port, isTLS: false, basePath: "")
        let probe = Probe()
        let idle = loop.makePromise(of: Void.self)
        loop.execute {
            pool.value.acquire(target, connectTimeout: .seconds(5)) { result in
                guard case .success(let acquired) = result else { return idle.fail(OriginError.reset) }
                // No exchange yet, so nothing stops it from going back at once.
                pool.value.release(acquired.connection)
                probe.connection = acquired.connection
                probe.heldByPool = acquired.connection.pool === pool.value
                idle.succeed()
            }
        }
        try await idle.futureResult.get()
        try await Self.expectIdleThenFreed(pool: pool, probe: probe, origin: origin, originCloses: originCloses)
    }

    /// A pool made on its loop, as the proxy makes its pools.
    static func pool(on loop: any EventLoop) async throws -> NIOLoopBound<OriginConnectionPool> {
        try await loop.submit {
            NIOLoopBound(OriginConnectionPool(eventLoop: loop, maximumIdlePerKey: 4), eventLoop: loop)
        }
        .get()
    }

    static func expectIdleThenFreed(
        pool: NIOLoopBound<OriginConnectionPool>, probe: Probe, origin: ScriptedOrigin, originCloses: Bool
    ) async throws {
        let loop = pool.eventLoop
        try await loop.submit { probe.idleCount = pool.value.idleCount }.get()
        #expect(probe.idleCount == 1)
        #expect(probe.heldByPool)
        if originCloses {
            await origin.stop()
        } else {
            try await loop.submit { pool.value.closeAll() }.get()
            await origin.stop()
        }
        var freed = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !freed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            freed = try await loop.submit {
                probe.idleCount = pool.value.idleCount
                return probe.connection == nil
            }.get()
        }
        #expect(freed, "the closed connection is still alive: a reference cycle")
        #expect(probe.idleCount == 0)
    }
}
