import Foundation
import NIOCore
import Testing

@testable import VeneerServer

/// `server.idle_timeout`: connections with no request in flight are closed, on both of the proxy's paths,
/// and a request in flight is never cut by it.
@Suite("Proxy idle connections", .timeLimit(.minutes(3)))
struct ProxyIdleTimeoutTests {
    /// Short enough for a quick test, long enough that a busy machine (the whole suite runs in parallel)
    /// rarely stalls a test's own steps for as long.
    static let twoSeconds = "idle_timeout = \"2s\""

    @Test("a connection that sends nothing is closed after idle_timeout")
    func silentConnection() async throws {
        try await ProxyHarness.with(serverSettings: Self.twoSeconds) { harness in
            let started = ContinuousClock.now
            let connection = try await RawConnection.connect(port: harness.port)
            #expect(await connection.waitForClose(seconds: 10))
            #expect(ContinuousClock.now - started >= .milliseconds(1800))
            #expect(connection.text.isEmpty)
        }
    }

    @Test("a request head that never finishes is closed after idle_timeout, and nothing reaches the origin")
    func tricklingHead() async throws {
        try await ProxyHarness.with(serverSettings: Self.twoSeconds) { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            try? await connection.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            var sent = 0
            while connection.channel.isActive, sent < 100 {
                try? await connection.send("a")
                sent += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await connection.waitForClose(seconds: 2))
            // Cut after about two seconds of trickling, not after the 10 s the loop would run.
            #expect(sent < 70)
            #expect(harness.origin.requests.isEmpty)
        }
    }

    @Test("requests a second apart keep a connection open past idle_timeout, on both paths")
    func activeConnectionStays() async throws {
        // 3 s against pauses of 1 s: a margin of 2 s for a busy machine to stall this test's own steps.
        try await ProxyHarness.with(serverSettings: "idle_timeout = \"3s\"") { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            let started = ContinuousClock.now
            for round in 0..<5 {
                // GET goes to the origin as bytes, POST through the HTTP codec.
                let request =
                    round % 2 == 0
                    ? "GET /echo?round=\(round) HTTP/1.1\r\nHost: x\r\n\r\n"
                    : "POST /echo?round=\(round) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
                try await connection.send(request)
                #expect(await connection.waitFor("round=\(round)"), "round \(round)")
                try await Task.sleep(for: .seconds(1))
            }
            #expect(ContinuousClock.now - started > .seconds(3))
            #expect(connection.channel.isActive)
            #expect(harness.origin.requests.count == 5)
            await connection.close()
        }
    }

    @Test("a request in flight longer than idle_timeout is answered, on both paths; then the clock starts again")
    func slowOriginIsNotIdle() async throws {
        try await ProxyHarness.with(serverSettings: Self.twoSeconds) { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            // Taken before the send: the proxy answers the two in turn, each after the origin's 3 s, and only then
            // starts the idle clock, so the close cannot come before 3 + 3 + 2 s from here, however late this
            // test sees the answers (a timestamp taken when it sees the second can be late by a second or more
            // when the whole suite keeps the machine busy).
            let sent = ContinuousClock.now
            // Both at once, so no pause of this test's own between them can look like an idle connection.
            try await connection.send(
                "GET /slow/3000 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /slow/3000 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
            #expect(await connection.waitFor("\r\n\r\nslow", seconds: 8))
            let answered = await connection.waitFor("\r\n\r\nslow", occurrences: 2, seconds: 10)
            #expect(answered)
            #expect(await connection.waitForClose(seconds: 10))
            #expect(ContinuousClock.now - sent >= .milliseconds(7900))
        }
    }

    @Test(
        "a client that stops reading a large answer is cut after idle_timeout, on both paths",
        arguments: ["", "Content-Length: 0\r\n"])
    func clientStopsReading(extraField: String) async throws {
        // More than the socket buffers on both sides hold, so that the proxy's writes stop.
        let size = 16 * 1024 * 1024
        try await ProxyHarness.with(serverSettings: Self.twoSeconds) { harness in
            // No reads until asked: the proxy's writes fill the socket buffers and stop.
            let client = try await PausedReader.connect(port: harness.port)
            let channel = client.channel
            // An empty Content-Length sends the same request through the HTTP codec.
            try await client.send("GET /bytes/\(size) HTTP/1.1\r\nHost: x\r\n\(extraField)\r\n")
            // The stall is seen within two idle_timeouts (the timer checks once per timeout while a request is
            // in flight).
            try await Task.sleep(for: .seconds(7))
            try await client.startReading()
            let closed = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await channel.closeFuture.get()) != nil }
                group.addTask {
                    try? await Task.sleep(for: .seconds(20))
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(closed, "the proxy kept the connection")
            // Cut: the client never gets the whole answer.
            #expect(client.receivedBytes < size)
            try? await channel.close()
        }
    }
}
