import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
import VeneerTestSupport
#endif

/// `veneer serve` as a child process (the executable built next to the test bundle), so what is measured or
/// signalled is the proxy alone: its memory, its reaction to SIGHUP and SIGTERM.
///
/// Started with posix_spawn and reaped by a thread of its own rather than Foundation's `Process`, whose
/// exit monitoring on Linux was seen to leave a test waiting for ever; output goes to a file, which never
/// fills up and blocks the child the way an unread pipe does.
final class VeneerProcess: Sendable {
    let pid: pid_t
    let proxyPort: Int
    let apiPort: Int
    let directory: String
    let configPath: String
    let logPath: String
    /// The exit status once the reaper has seen the child exit.
    private let exit = NIOLockedValueBox<Int32?>(nil)

    private init(pid: pid_t, proxyPort: Int, apiPort: Int, directory: String, configPath: String, logPath: String) {
        self.pid = pid
        self.proxyPort = proxyPort
        self.apiPort = apiPort
        self.directory = directory
        self.configPath = configPath
        self.logPath = logPath
        let exit = self.exit
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1, errno == EINTR {}
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            exit.withLockedValue { $0 = code }
        }.start()
    }

    var isRunning: Bool { exit.withLockedValue { $0 == nil } }
    /// The exit status (128 + signal when killed by one); nil while running.
    var terminationStatus: Int32? { exit.withLockedValue { $0 } }

    /// The `veneer` executable built next to the test bundle.
    static func binary() throws -> String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("veneer")
                .path,
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
    static func start(body: @escaping (_ directory: String) -> String, client: HTTPClient) async throws -> VeneerProcess
    {
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
        // A port `freePort` found free can be taken by another test's server before veneer binds it; veneer then
        // exits, and the readiness check must not wait on whoever holds the port. Such a start is tried again
        // on new ports.
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await startOnce(fullConfig: fullConfig, prepare: prepare, client: client)
            } catch let error as VeneerProcessError where error.exitedEarly && attempt < 3 {
                continue
            }
        }
    }

    private static func startOnce(
        fullConfig: (_ proxyPort: Int, _ apiPort: Int, _ directory: String) -> String,
        prepare: (_ directory: String) throws -> Void, client: HTTPClient
    ) async throws -> VeneerProcess {
        let directory = TestScratch.root.appendingPathComponent("veneer-process-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try prepare(directory)
        let proxyPort = try freePort()
        let apiPort = try freePort()
        let configPath = directory + "/proxy.conf"
        try fullConfig(proxyPort, apiPort, directory).write(toFile: configPath, atomically: true, encoding: .utf8)
        let logPath = directory + "/veneer.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        ChildProcess.closeInheritedDescriptors(&actions)
        let executable = try binary()
        // The shell changes into the folder (relative paths in proxy.conf, like the demo's data/, land there)
        // and `exec`s veneer, which keeps the shell's pid.
        let arguments = [
            "/bin/sh", "-c", "cd \"$0\" && exec \"$1\" serve --config \"$2\"", directory, executable, configPath,
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        guard spawned == 0 else { throw VeneerProcessError(message: "cannot start \(executable): errno \(spawned)") }
        let started = VeneerProcess(
            pid: pid, proxyPort: proxyPort, apiPort: apiPort, directory: directory, configPath: configPath,
            logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard started.isRunning else {
                let log = started.log
                started.stop()
                throw VeneerProcessError(message: "veneer serve exited while starting: \(log)", exitedEarly: true)
            }
            if let (status, _) = try? await started.get(
                "http://127.0.0.1:\(apiPort)/-/ready", client: client, timeout: .seconds(2)),
                status == 200
            {
                return started
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let log = started.log
        started.stop()
        throw VeneerProcessError(message: "veneer serve did not become ready within 30 s: \(log)")
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

    func get(
        _ url: String, headers: [(String, String)] = [], client: HTTPClient, timeout: TimeAmount = .seconds(10)
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: timeout)
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
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return !isRunning
    }

    /// Everything the process printed so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then SIGKILL if it has not gone within five seconds; never waits longer than that.
    func stop() {
        if isRunning {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            if isRunning {
                kill(pid, SIGKILL)
                for _ in 0..<200 where isRunning { usleep(10_000) }
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

struct VeneerProcessError: Error, CustomStringConvertible {
    var message: String
    /// The process exited before it was ready (typically: one of its ports was taken meanwhile).
    var exitedEarly = false
    var description: String { message }
}
