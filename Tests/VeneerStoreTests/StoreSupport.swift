import Foundation
import Logging
import Synchronization
import Testing
import VeneerCore
import VeneerStore
import VeneerTestSupport

/// Which database a conformance test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Fresh databases for tests: a SQLite file in a new temp folder, or a new database on the PostgreSQL
/// server named by `VENEER_TEST_POSTGRES_URL` (or one this process starts with `scripts/postgres-test-server`).
enum StoreSupport {
    static let logger: Logger = {
        var logger = Logger(label: "veneer.store.tests")
        logger.logLevel = .warning
        return logger
    }()

    /// A URL for a new, empty database of this kind, or nil (with the reason printed) when PostgreSQL is
    /// not available.
    static func freshURL(_ kind: StoreKind) async throws -> String? {
        switch kind {
        case .sqlite:
            let folder = TestScratch.root.appendingPathComponent("veneer-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return "sqlite:\(folder.path)/veneer.sqlite"
        case .postgres:
            guard let server = await PostgresTestServer.shared.url() else { return nil }
            let name =
                "veneer_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            try await run(psql, [server, "-q", "-c", "CREATE DATABASE \(name)"])
            guard var components = URLComponents(string: server) else { return nil }
            components.path = "/\(name)"
            return components.string
        }
    }

    /// Opens a store on a fresh database; nil when the kind is unavailable (the reason is printed).
    static func open(_ kind: StoreKind) async throws -> (store: any Store, url: String)? {
        guard let url = try await freshURL(kind) else { return nil }
        // Each PostgreSQL operation may take a minute here, where the store's default is 10 s: the suite keeps this
        // machine's two cores busy, and the 40 concurrent appends of one test queue behind a single advisory lock.
        // Once in CI the last of them waited more than 10 s for a connection. (The URL returned stays as psql
        // takes it.)
        let storeURL = kind == .postgres ? url + "?timeout=60" : url
        return (try await StoreFactory.open(url: storeURL, logger: logger), url)
    }

    static var psql: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/psql")
            ? "/usr/bin/psql" : "/usr/lib/postgresql/15/bin/psql"
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Runs a command on a thread of its own (never blocking the test's cooperative threads) and returns its
    /// standard output; output goes through a file, so a daemon the command leaves behind cannot hold a pipe.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments) })
            }.start()
        }
    }

    /// Makes the SQLite file at `path` with `statements`, through Python's sqlite3 rather than the store: a
    /// database as an earlier schema left it.
    static func writeSQLite(_ path: String, _ statements: [String]) async throws {
        try await run(
            "/usr/bin/python3",
            [
                "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
                path, statements.joined(separator: ";\n"),
            ])
    }

    /// What Python prints for `expression`, in which `c` is a connection to the SQLite file at `path`.
    static func readSQLite(_ path: String, _ expression: String) async throws -> String {
        try await run(
            "/usr/bin/python3",
            ["-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(\(expression))", path])
    }

    static func runBlocking(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(executable, arguments)
        guard result.status == 0 else {
            throw StoreError(
                code: "test-setup",
                message:
                    "\(executable) \(arguments.joined(separator: " ")) exited with status \(result.status): \(result.output)"
            )
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func event(
        _ id: String, _ name: String = "View Page", at timestamp: Int64 = 1_764_000_000_000, profile: String? = nil,
        user: String? = nil, account: String? = nil, another: String? = nil, session: String? = nil,
        data: [String: JSONValue] = [:], userAttributes: [String: JSONValue] = [:],
        accountAttributes: [String: JSONValue] = [:]
    ) -> TrackEvent {
        TrackEvent(
            eventId: id, name: name, timestamp: timestamp, sourceId: "1", profileId: profile, userId: user,
            accountId: account, anotherUserId: another, sessionId: session, data: data, userAttributes: userAttributes,
            accountAttributes: accountAttributes)
    }

    static func exposure(
        _ id: String, selector: String, arm: String, version: Int = 1, control: Bool = false, profile: String,
        session: String? = "s1", at timestamp: Int64 = 1_764_000_000_000
    ) -> TrackEvent {
        let exposure = Exposure(
            selector: selector, optimizationName: selector, group: nil, kind: .experiment, arm: arm, control: control,
            bucketVersion: version, assignmentKey: "1_\(profile)")
        return TrackEvent.exposure(
            exposure, eventId: id, timestamp: timestamp, sourceId: "1", profileId: profile, userId: nil,
            sessionId: session, url: "http://shop.test/", device: .desktop, applied: true)
    }
}

/// The PostgreSQL server the tests use: the one `VENEER_TEST_POSTGRES_URL` names, else one started once per
/// test process with `scripts/postgres-test-server` and stopped when the process exits.
actor PostgresTestServer {
    static let shared = PostgresTestServer()
    private var resolution: Task<String?, Never>?

    func url() async -> String? {
        if resolution == nil { resolution = Task { await Self.resolve() } }
        return await resolution!.value
    }

    private static func resolve() async -> String? {
        if let url = ProcessInfo.processInfo.environment["VENEER_TEST_POSTGRES_URL"], !url.isEmpty {
            return url
        }
        let script = StoreSupport.repositoryRoot.appendingPathComponent("scripts/postgres-test-server").path
        do {
            let url = try await StoreSupport.run("/bin/bash", [script, "start"])
            startedURL.withLock { $0 = url }
            atexit {
                if let url = startedURL.withLock({ $0 }) {
                    let script = StoreSupport.repositoryRoot.appendingPathComponent("scripts/postgres-test-server").path
                    _ = try? StoreSupport.runBlocking("/bin/bash", [script, "stop", url])
                }
            }
            print("PostgreSQL for the store tests: started \(url) with scripts/postgres-test-server")
            return url
        } catch {
            print(
                "PostgreSQL half NOT RUN: VENEER_TEST_POSTGRES_URL is unset and scripts/postgres-test-server failed: \(error)"
            )
            return nil
        }
    }
}

private let startedURL = Mutex<String?>(nil)
