import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import VeneerServer

/// Issue 5, point 8: `veneer serve` as a process — ops endpoints, reload on file change and SIGHUP, SIGTERM
/// drain — against a real origin.
@Suite("Proxy operations", .serialized)
struct ProxyOperationsTests {
    /// The `veneer` executable built next to the test bundle.
    static func veneerBinary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("veneer").path,
            FileManager.default.currentDirectoryPath + "/.build/debug/veneer",
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw OperationsTestError(message: "no veneer executable in \(candidates); run `swift build` first")
        }
        return found
    }

    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }

    static func configText(origin: String, proxyPort: Int, apiPort: Int, directory: String, headline: String) -> String {
        """
        [server]
        listen = "127.0.0.1:\(proxyPort)"
        api_listen = "127.0.0.1:\(apiPort)"

        [origin]
        url = "\(origin)"
        timeout = "5s"

        [store]
        url = "sqlite:\(directory)/veneer.sqlite"

        [events]
        spool_dir = "\(directory)/spool"

        [[route]]
        path = "/shop"

        [[personalization]]
        name = "Hero"
        selector = "hero"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Everyone"
          audience = "everyone"
          payload = { changes = [ { selector = "h1", action = "text", text = "\(headline)" } ] }
        """
    }

    @Test("ops endpoints, reload on file change and on SIGHUP, an invalid file refused, SIGTERM drains")
    func servesReloadsAndDrains() async throws {
        let binary = try Self.veneerBinary()
        let origin = try await TestOriginServer.start(pages: ["/shop/page": .init(body: "<!DOCTYPE html><html><body><h1>Original</h1></body></html>")])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veneer-ops-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let proxyPort = try Self.freePort()
        let apiPort = try Self.freePort()
        let configPath = directory + "/proxy.conf"
        try Self.configText(origin: origin.url, proxyPort: proxyPort, apiPort: apiPort, directory: directory, headline: "First")
            .write(toFile: configPath, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--config", configPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errorPipe = Pipe()
        process.standardError = errorPipe
        process.standardOutput = errorPipe
        try process.run()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            func get(_ url: String) async throws -> (Int, String) {
                let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            var ready = false
            for _ in 0..<200 {
                if let (status, _) = try? await get("http://127.0.0.1:\(apiPort)/-/ready"), status == 200 { ready = true; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try #require(ready, "veneer serve did not become ready")
            #expect(try await get("http://127.0.0.1:\(apiPort)/-/health") == (200, "ok\n"))
            #expect(try await get("http://127.0.0.1:\(proxyPort)/shop/page").1.contains("<h1>First</h1>"))
            let metrics = try await get("http://127.0.0.1:\(apiPort)/-/metrics").1
            #expect(metrics.contains("veneer_requests_total{route=\"/shop\",status=\"2xx\"} 1"))
            #expect(metrics.contains("veneer_request_duration_seconds_bucket{route=\"/shop\""))
            #expect(metrics.contains("veneer_decisions_total{optimization=\"hero\",arm=\"Everyone\",outcome=\"served\"} 1"))
            #expect(metrics.contains("veneer_rewrite_duration_seconds"))

            // A file change is picked up (polled once a second).
            try Self.configText(origin: origin.url, proxyPort: proxyPort, apiPort: apiPort, directory: directory, headline: "Second")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            var reloaded = false
            for _ in 0..<60 {
                if try await get("http://127.0.0.1:\(proxyPort)/shop/page").1.contains("<h1>Second</h1>") { reloaded = true; break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(reloaded)

            // An invalid file is refused and the running configuration stays.
            try "[origin]\nurl = 42\n".write(toFile: configPath, atomically: true, encoding: .utf8)
            try await Task.sleep(for: .milliseconds(2500))
            #expect(try await get("http://127.0.0.1:\(proxyPort)/shop/page").1.contains("<h1>Second</h1>"))
            #expect(try await get("http://127.0.0.1:\(apiPort)/-/metrics").1.contains("veneer_config_reloads_total{result=\"refused\"}"))

            // SIGHUP reloads too: a valid file is back; the signal (not only polling) applies it.
            try Self.configText(origin: origin.url, proxyPort: proxyPort, apiPort: apiPort, directory: directory, headline: "Third")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            kill(process.processIdentifier, SIGHUP)
            var third = false
            for _ in 0..<40 {
                if try await get("http://127.0.0.1:\(proxyPort)/shop/page").1.contains("<h1>Third</h1>") { third = true; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(third)

            // SIGTERM while a slow request is in flight: it completes, then the process exits cleanly.
            let slow = Task { try await get("http://127.0.0.1:\(proxyPort)/slow/1500") }
            try await Task.sleep(for: .milliseconds(300))
            kill(process.processIdentifier, SIGTERM)
            let (status, body) = try await slow.value
            #expect(status == 200)
            #expect(body == "slow")
            for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            #expect(process.terminationStatus == 0)
            let log = String(decoding: errorPipe.fileHandleForReading.availableData, as: UTF8.self)
            #expect(log.contains("configuration refused"))
            #expect(log.contains("SIGHUP"))
        } catch {
            if process.isRunning { process.terminate() }
            try? await client.shutdown()
            await origin.stop()
            throw error
        }
        if process.isRunning { process.terminate() }
        try? await client.shutdown()
        await origin.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct OperationsTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
