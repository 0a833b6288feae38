/// One connection's worth of statements, inside a transaction or not. SQL is written with `$1`-style
/// placeholders; the SQLite side rewrites them to `?1`.
protocol SQLSession: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    var dialect: SQLDialect { get }
}

extension SQLSession {
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
}

/// A database the relational store runs on.
protocol SQLBackend: Sendable {
    /// A statement outside any transaction (reads).
    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one write transaction; writers are serialized (within the process for SQLite, across
    /// all processes for PostgreSQL), so identity merges never interleave.
    func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLSession) async throws -> Result
    ) async throws -> Result
    func close() async throws
}
