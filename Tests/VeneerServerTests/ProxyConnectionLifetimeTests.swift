import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import VeneerServer

/// The handlers of a client connection hold each other, their timers and their origin connection strongly (weak
/// references would put every retain on the runtime's slow path). This test shows that they are still freed
/// when the client goes away, whatever was in flight.
@Suite("Proxy connection lifetime", .timeLimit(.minutes(2)))
struct ProxyConnectionLifetimeTests {
    @Test(
        "a client that leaves with a request in flight, on either path or between requests, leaves no handler behind"
    )
    func handlersAreFreed() async throws {
        let script = ProxyPassThroughPathTests.paths([
            "/silent": .silent, "/post-silent": .silent,
        ])
        try await ProxyPassThroughPathTests.with(script: script) { harness, origin in
            let between = try await RawConnection.connect(port: harness.port)
            let passThrough = try await RawConnection.connect(port: harness.port)
            let codec = try await RawConnection.connect(port: harness.port)
            // One answered request each first: the origin connections, timers and pools are all in use.
            for connection in [between, passThrough, codec] {
                try await connection.send(ProxyPassThroughPathTests.get("/first"))
                #expect(await connection.waitFor("\r\n\r\nok"))
            }
            try await passThrough.send(ProxyPassThroughPathTests.get("/silent"))
            try await codec.send("POST /post-silent HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            for _ in 0..<500 where origin.requests.count < 5 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(origin.requests.map(\.path).sorted() == ["/first", "/first", "/first", "/post-silent", "/silent"])

            let channels = harness.server.connectionChannels
            #expect(channels.count == 3)
            var weakReferences: [WeakHandlers] = []
            for channel in channels {
                weakReferences.append(try await WeakHandlers(channel))
            }
            for reference in weakReferences { #expect(reference.alive == 2) }

            for connection in [between, passThrough, codec] { await connection.close() }
            for _ in 0..<500 where harness.server.openConnections > 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(harness.server.openConnections == 0)
            // Freed on the event loops once the pipelines are gone; give them a moment.
            for _ in 0..<500 where weakReferences.contains(where: { $0.alive > 0 }) {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(weakReferences.map(\.alive) == [0, 0, 0])
        }
    }
}

/// Weak references to one client connection's `PassThroughHandler` and `ProxyHandler`, taken on its event loop.
final class WeakHandlers: @unchecked Sendable {
    // Written once on the connection's event loop, then read under the lock; a weak reference is cleared by
    // the runtime, safely from any thread.
    private let lock = NIOLock()
    private weak var passThrough: PassThroughHandler?
    private weak var proxy: ProxyHandler?

    init(_ channel: any Channel) async throws {
        try await channel.eventLoop.submit { [self] in
            let pipeline = channel.pipeline.syncOperations
            let passThrough = try pipeline.handler(type: PassThroughHandler.self)
            let proxy = try pipeline.handler(type: ProxyHandler.self)
            lock.withLock {
                self.passThrough = passThrough
                self.proxy = proxy
            }
        }.get()
    }

    /// How many of the two handlers are still alive.
    var alive: Int {
        lock.withLock { (passThrough == nil ? 0 : 1) + (proxy == nil ? 0 : 1) }
    }
}
