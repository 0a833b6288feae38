import Foundation
import Logging
import PostgresNIO

/// PostgreSQL through PostgresNIO's pooled client. Writers take one transaction-scoped advisory lock, so
/// identity merges of several proxies on one database never interleave.
final class PostgresBackend: SQLBackend {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// How long one read or one transaction may take, the wait for a connection included: while the
    /// database is down the pool waits for ever, and callers (the reporter, the API) must learn of it.
    private let timeout: Duration
    /// The advisory lock key that serializes writers (any constant: "veneer" in ASCII).
    static let writerLockKey: Int64 = 0x7665_6e65_6572

    private init(client: PostgresClient, runner: Task<Void, Never>, logger: Logger, timeout: Duration) {
        self.client = client
        self.runner = runner
        self.logger = logger
        self.timeout = timeout
    }

    /// `postgres://user:password@host:port/database` (also `postgresql://`); `?host=/dir` selects a Unix socket
    /// (its file `.s.PGSQL.<port>` in that folder); `?pool=N` sets the connection count (default 8);
    /// `?timeout=S` the seconds one operation may take (default 10).
    static func open(url: String, logger: Logger) async throws -> PostgresBackend {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw StoreError(code: "bad-url", message: "not a postgres:// URL: \(url)") }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let port = components.port ?? 5432
        var configuration: PostgresClient.Configuration
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            configuration = PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password,
                database: database.isEmpty ? nil : database)
        } else {
            configuration = PostgresClient.Configuration(
                host: components.host ?? "127.0.0.1", port: port, username: user, password: password,
                database: database.isEmpty ? nil : database, tls: .disable)
        }
        configuration.options.maximumConnections = Int(query["pool"] ?? "") ?? 8
        configuration.options.minimumConnections = 1
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        let timeout = Duration.seconds(Double(query["timeout"] ?? "") ?? 10)
        let backend = PostgresBackend(client: client, runner: runner, logger: logger, timeout: timeout)
        do {
            // The pool retries refused connections for ever; a store that cannot connect at start is an error.
            _ = try await backend.read("SELECT 1", [])
        } catch {
            runner.cancel()
            throw StoreError(
                code: "connect", message: "cannot reach PostgreSQL at \(components.host ?? "?"):\(port): \(error)")
        }
        return backend
    }

    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let client = self.client
        let logger = self.logger
        do {
            return try await withLeaseDeadline(timeout, "a PostgreSQL connection for a read") { leased in
                try await client.withConnection { connection in
                    leased()
                    return try await Self.run(connection, sql, binds, logger: logger)
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: "database", message: "\(String(reflecting: error)) in \(sql.prefix(120))")
        }
    }

    func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLSession) async throws -> Result
    ) async throws
        -> Result
    {
        let logger = self.logger
        let client = self.client
        return try await withLeaseDeadline(timeout, "a PostgreSQL connection for a transaction") { leased in
            try await client.withConnection { connection in
                leased()
                let session = PostgresSession(connection: connection, logger: logger)
                _ = try await session.query("BEGIN", [])
                do {
                    _ = try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.writerLockKey)])
                    let result = try await body(session)
                    _ = try await session.query("COMMIT", [])
                    return result
                } catch {
                    _ = try? await session.query("ROLLBACK", [])
                    throw error
                }
            }
        }
    }

    func close() async throws {
        runner.cancel()
        _ = await runner.value
    }

    static func run(
        _ connection: PostgresConnection, _ sql: String, _ binds: [SQLValue], logger: Logger
    ) async throws
        -> [SQLRow]
    {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .double(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            }
        }
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            var result: [SQLRow] = []
            for try await row in rows {
                var values: SQLRow = []
                for cell in row {
                    values.append(try Self.value(cell))
                }
                result.append(values)
            }
            return result
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: "database", message: "\(String(reflecting: error)) in \(sql.prefix(120))")
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8, .int4, .int2: return .integer(try cell.decode(Int64.self))
        case .float8, .float4: return .double(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }
}

private struct PostgresSession: SQLSession, @unchecked Sendable {
    // The leased connection is used only inside the transaction closure that owns it.
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await PostgresBackend.run(connection, sql, binds, logger: logger)
    }
}
