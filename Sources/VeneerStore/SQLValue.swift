/// A value bound to, or read from, an SQL statement; the common ground of SQLite and PostgreSQL.
enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)

    init(_ text: String?) {
        self = text.map(SQLValue.text) ?? .null
    }

    init(_ integer: Int64) {
        self = .integer(integer)
    }

    init(_ bool: Bool) {
        self = .integer(bool ? 1 : 0)
    }

    var text: String? {
        switch self {
        case .text(let text): return text
        case .integer(let integer): return String(integer)
        case .double(let double): return String(double)
        case .null: return nil
        }
    }

    var integer: Int64? {
        switch self {
        case .integer(let integer): return integer
        case .double(let double): return Int64(double)
        case .text(let text): return Int64(text)
        case .null: return nil
        }
    }

    var bool: Bool { (integer ?? 0) != 0 }
}

typealias SQLRow = [SQLValue]

/// One connection's worth of statements, inside a transaction or not. SQL is written with `$1`-style
/// placeholders; the SQLite side rewrites them to `?1`.
protocol SQLSession: Sendable {
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

extension SQLSession {
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await query(sql, binds)
    }
}

enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// A database the relational store runs on.
protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// A statement outside any transaction (reads).
    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs `body` in one write transaction; writers are serialized (within the process for SQLite, across
    /// all processes for PostgreSQL), so identity merges never interleave.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLSession) async throws -> Result) async throws -> Result
    func close() async throws
}

/// `$1, $2, …` for `count` values starting at `start`.
func placeholders(_ count: Int, from start: Int) -> String {
    (0..<count).map { "$\(start + $0)" }.joined(separator: ", ")
}
