import Foundation
import Testing

@testable import VeneerServer

/// Request bodies and the two timeouts: `origin.timeout` counts from the last request byte the origin got, so
/// an upload that keeps arriving is never cut by it; a client that stops sending its body is answered 408
/// after `server.idle_timeout`.
@Suite("Proxy uploads and timeouts", .timeLimit(.minutes(3)))
struct ProxyUploadTimeoutTests {
    /// A proxy with `origin.timeout` 1 s and `server.idle_timeout` `idle` (2 s unless given), and a raw
    /// connection to it.
    static func withProxy(
        idle: String = "2s", _ body: (ProxyHarness, RawConnection) async throws -> Void
    ) async throws {
        try await ProxyHarness.with(originSettings: "timeout = \"1s\"", serverSettings: "idle_timeout = \"\(idle)\"") {
            harness in
            try await body(harness, try await RawConnection.connect(port: harness.port))
        }
    }

    @Test("an upload that keeps arriving for three times origin.timeout reaches the origin whole and is answered")
    func slowSteadyUpload() async throws {
        try await Self.withProxy { harness, connection in
            try await connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n")
            for _ in 0..<12 {
                try await Task.sleep(for: .milliseconds(250))
                try await connection.send("u")
            }
            #expect(await connection.waitFor("received=12", seconds: 10), "got: \(connection.text)")
            #expect(connection.text.hasPrefix("HTTP/1.1 200"))
            await connection.close()
        }
    }

    @Test("an upload that stops arriving is answered 408 after idle_timeout, and the connection closes")
    func stalledUpload() async throws {
        try await Self.withProxy { harness, connection in
            // Before the send, so before the proxy's read of the last byte, however late this test runs.
            let sent = ContinuousClock.now
            try await connection.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf")
            #expect(await connection.waitFor("HTTP/1.1 408", seconds: 10), "got: \(connection.text)")
            // Not origin.timeout's 504 after 1 s: the client is the one that is late, and idle_timeout is 2 s.
            #expect(ContinuousClock.now - sent >= .milliseconds(1900))
            #expect(!connection.text.contains("received="))
            #expect(await connection.waitForClose(seconds: 5))
            #expect(harness.origin.requests.count == 1, "the head went to the origin, no retry")
        }
    }

    @Test("an origin that does not answer a whole upload still gets origin.timeout's 504, counted from its end")
    func originSlowAfterUpload() async throws {
        // idle_timeout well above the pause, which a loaded machine may stretch.
        try await Self.withProxy(idle: "5s") { harness, connection in
            try await connection.send("POST /slow/5000 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab")
            // Longer than origin.timeout, shorter than idle_timeout: the origin is not late while the client sends.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(connection.text.isEmpty, "answered before the upload ended: \(connection.text)")
            // Before the send, so before the proxy reads the upload's end and starts origin.timeout's 1 s.
            let sent = ContinuousClock.now
            try await connection.send("cd")
            #expect(await connection.waitFor("HTTP/1.1 504", seconds: 10), "got: \(connection.text)")
            #expect(ContinuousClock.now - sent >= .milliseconds(950))
            await connection.close()
        }
    }
}
