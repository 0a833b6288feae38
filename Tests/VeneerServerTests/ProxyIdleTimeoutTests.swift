import Foundation
import NIOCore
import Testing

@testable import VeneerServer

/// `server.idle_timeout`: connections with no request in flight are closed, on both of the proxy's paths,
/// and a request in flight is never cut by it.
@Suite("Proxy idle connections", .timeLimit(.minutes(3)))
struct ProxyIdleTimeoutTests {
    static let oneSecond = "idle_timeout = \"1s\""

    @Test("a connection that sends nothing is closed after idle_timeout")
    func silentConnection() async throws {
        try await ProxyHarness.with(serverSettings: Self.oneSecond) { harness in
            let started = ContinuousClock.now
            let connection = try await RawConnection.connect(port: harness.port)
            #expect(await Self.waitForClose(connection, seconds: 6))
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(connection.text.isEmpty)
        }
    }

    @Test("a request head that never finishes is closed after idle_timeout, and nothing reaches the origin")
    func tricklingHead() async throws {
        try await ProxyHarness.with(serverSettings: Self.oneSecond) { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            var sent = 0
            while connection.channel.isActive, sent < 60 {
                try? await connection.send("a")
                sent += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await Self.waitForClose(connection, seconds: 2))
            // Cut after about a second of trickling, not after the 6 s the loop would run.
            #expect(sent < 45)
            #expect(harness.origin.requests.isEmpty)
        }
    }

    @Test("requests every 300 ms keep a connection open past idle_timeout, on both paths")
    func activeConnectionStays() async throws {
        // 2 s here: a loaded machine (the whole suite runs in parallel) can stretch a 300 ms pause a lot.
        try await ProxyHarness.with(serverSettings: "idle_timeout = \"2s\"") { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            let started = ContinuousClock.now
            for round in 0..<10 {
                // GET goes to the origin as bytes, POST through the HTTP codec.
                let request =
                    round % 2 == 0
                    ? "GET /echo?round=\(round) HTTP/1.1\r\nHost: x\r\n\r\n"
                    : "POST /echo?round=\(round) HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
                try await connection.send(request)
                #expect(await connection.waitFor("round=\(round)"), "round \(round)")
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(ContinuousClock.now - started > .seconds(2))
            #expect(connection.channel.isActive)
            #expect(harness.origin.requests.count == 10)
            await connection.close()
        }
    }

    @Test("a request in flight longer than idle_timeout is answered, on both paths; then the clock starts again")
    func slowOriginIsNotIdle() async throws {
        try await ProxyHarness.with(serverSettings: Self.oneSecond) { harness in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send("GET /slow/2000 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.waitFor("\r\n\r\nslow", seconds: 6))
            try await connection.send("POST /slow/2000 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx")
            let answered = await Self.waitForText(connection, occurrences: 2, of: "\r\n\r\nslow", seconds: 6)
            #expect(answered)
            let afterAnswer = ContinuousClock.now
            #expect(await Self.waitForClose(connection, seconds: 6))
            #expect(ContinuousClock.now - afterAnswer >= .milliseconds(800))
        }
    }

    static func waitForClose(_ connection: RawConnection, seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline, connection.channel.isActive {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return !connection.channel.isActive
    }

    static func waitForText(
        _ connection: RawConnection, occurrences: Int, of marker: String, seconds: Double
    ) async
        -> Bool
    {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if connection.text.components(separatedBy: marker).count - 1 >= occurrences { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
