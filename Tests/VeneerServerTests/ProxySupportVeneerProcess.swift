import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// `veneer serve` as a child process (the executable built next to the test bundle), so what is measured or
/// signalled is the proxy alone: its memory, its reaction to SIGHUP and SIGTERM.
final class VeneerProcess: @unchecked Sendable {
    let process: Process
    let output: Pipe
    /// What the process printed, read as it comes: a pipe nobody reads fills up at 64 KiB and then blocks
    /// the child's logging, and with it the child.
    private let printed = NIOLockedValueBox((data: Data(), ended: false))
    let proxyPort: Int
    let apiPort: Int
    let directory: String
    let configPath: String

    var pid: Int32 { process.processIdentifier }

    private init(process: Process, output: Pipe, proxyPort: Int, apiPort: Int, directory: String, configPath: String) {
        self.process = process
        self.output = output
        self.proxyPort = proxyPort
        self.apiPort = apiPort
        self.directory = directory
        self.configPath = configPath
        let printed = self.printed
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                printed.withLockedValue { $0.ended = true }
            } else {
                printed.withLockedValue { $0.data.append(data) }
            }
        }
    }

    /// The `veneer` executable built next to the test bundle.
    static func binary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("veneer").path,
            FileManager.default.currentDirectoryPath + "/.build/debug/veneer",
        ]
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw VeneerProcessError(message: "no veneer executable in \(candidates); run `swift build` first")
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

    /// Starts `veneer serve` with `[server]`, `[store]` and `[events]` filled in and `body` (the rest of
    /// proxy.conf, `[origin]` included); returns once `/-/ready` answers 200.
    static func start(body: @escaping (_ directory: String) -> String, client: HTTPClient) async throws -> VeneerProcess {
        try await start(
            fullConfig: { proxyPort, apiPort, directory in
                header(proxyPort: proxyPort, apiPort: apiPort, directory: directory) + body(directory)
            }, client: client)
    }

    /// Starts `veneer serve` with the whole proxy.conf from `fullConfig(proxyPort, apiPort, directory)`;
    /// `prepare` may lay files into the directory first.
    static func start(
        fullConfig: (_ proxyPort: Int, _ apiPort: Int, _ directory: String) -> String,
        prepare: (_ directory: String) throws -> Void = { _ in }, client: HTTPClient
    ) async throws -> VeneerProcess {
        let directory = TestScratch.root.appendingPathComponent("veneer-process-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try prepare(directory)
        let proxyPort = try freePort()
        let apiPort = try freePort()
        let configPath = directory + "/proxy.conf"
        try fullConfig(proxyPort, apiPort, directory).write(toFile: configPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments = ["serve", "--config", configPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        let started = VeneerProcess(
            process: process, output: output, proxyPort: proxyPort, apiPort: apiPort, directory: directory,
            configPath: configPath)
        for _ in 0..<300 {
            if let (status, _) = try? await started.get("http://127.0.0.1:\(apiPort)/-/ready", client: client), status == 200 {
                return started
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        started.stop()
        throw VeneerProcessError(message: "veneer serve did not become ready: \(started.log)")
    }

    static func header(proxyPort: Int, apiPort: Int, directory: String) -> String {
        """
        [server]
        listen = "127.0.0.1:\(proxyPort)"
        api_listen = "127.0.0.1:\(apiPort)"

        [store]
        url = "sqlite:\(directory)/veneer.sqlite"

        [events]
        spool_dir = "\(directory)/spool"

        """
    }

    /// Rewrites proxy.conf, keeping the listeners, store and events settings.
    func rewriteConfig(_ body: String) throws {
        try (Self.header(proxyPort: proxyPort, apiPort: apiPort, directory: directory) + body)
            .write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    func get(_ url: String, headers: [(String, String)] = [], client: HTTPClient) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    var proxyURL: String { "http://127.0.0.1:\(proxyPort)" }
    var apiURL: String { "http://127.0.0.1:\(apiPort)" }

    /// Resident memory of the process, from /proc.
    var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0) * 1024
        }
        return 0
    }

    func signal(_ number: Int32) {
        kill(pid, number)
    }

    /// Waits for the process to exit by itself; false if it is still running after `seconds`.
    func waitForExit(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !process.isRunning
    }

    /// Everything the process printed so far; once it has exited, everything it printed.
    var log: String {
        if !process.isRunning {
            // The last bytes may still be on their way to the handler.
            for _ in 0..<100 where !printed.withLockedValue({ $0.ended }) { usleep(10_000) }
        }
        return printed.withLockedValue { String(decoding: $0.data, as: UTF8.self) }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct VeneerProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
