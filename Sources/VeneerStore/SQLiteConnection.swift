import CSQLite
import Foundation
import NIOConcurrencyHelpers

/// One connection to an SQLite file through the system's libsqlite3, with its prepared statements kept by SQL
/// text: the store sends the same few statements (a multi-row insert has a handful of sizes) thousands of times a
/// second, and parsing one again costs about what running it does. Calls block; the backend runs them on its
/// own threads. Safe to call from any thread: a lock serializes them.
///
/// ```swift
/// let connection = try SQLiteConnection(path: "data/veneer.sqlite")
/// let rows = try connection.run("SELECT value FROM attributes WHERE person_id = ?1", [.text(person)])
/// ```
final class SQLiteConnection: @unchecked Sendable {
    // Only touched under `lock`.
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private let lock = NIOLock()

    /// Done once, before the first connection opens.
    private static let configured: Int32 = veneer_sqlite3_configure()

    /// How many prepared statements one connection keeps; past it, the cache starts again empty.
    static let statementLimit = 256

    init(path: String) throws {
        _ = Self.configured
        var handle: OpaquePointer?
        // The lock below serializes every use of the handle: SQLite's own mutex would be taken for nothing.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw StoreError(code: "database", message: "cannot open \(path): \(message)")
        }
        self.handle = handle
    }

    /// Runs one statement and returns its rows. `sql` numbers its parameters `?1`, `?2`…
    func run(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try lock.withLock {
            guard let handle else { throw StoreError(code: "database", message: "the store is closed") }
            let statement = try prepared(sql, handle)
            // Bindings are not cleared: every run binds every parameter again, and SQLite then copies a text into
            // the buffer the last one left instead of allocating one.
            defer { sqlite3_reset(statement) }
            guard sqlite3_bind_parameter_count(statement) == Int32(binds.count) else {
                throw StoreError(
                    code: "database",
                    message:
                        "\(binds.count) values for \(sqlite3_bind_parameter_count(statement)) parameters in \(sql.prefix(120))"
                )
            }
            for (offset, value) in binds.enumerated() {
                let index = Int32(offset + 1)
                let status: Int32
                switch value {
                case .null: status = sqlite3_bind_null(statement, index)
                case .integer(let integer): status = sqlite3_bind_int64(statement, index, integer)
                case .double(let double): status = sqlite3_bind_double(statement, index, double)
                case .text(var text):
                    status = text.withUTF8 { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { characters in
                            guard let base = characters.baseAddress else {
                                return veneer_sqlite3_bind_text_copy(statement, index, "", 0)
                            }
                            return veneer_sqlite3_bind_text_copy(statement, index, base, Int32(characters.count))
                        }
                    }
                }
                guard status == SQLITE_OK else { throw error(handle, sql) }
            }
            var rows: [SQLRow] = []
            let columns = sqlite3_column_count(statement)
            while true {
                let status = sqlite3_step(statement)
                if status == SQLITE_DONE { break }
                guard status == SQLITE_ROW else { throw error(handle, sql) }
                var row: SQLRow = []
                row.reserveCapacity(Int(columns))
                for column in 0..<columns {
                    row.append(Self.value(statement, column))
                }
                rows.append(row)
            }
            return rows
        }
    }

    /// Finalizes every statement and closes the file; later calls throw.
    func close() {
        lock.withLock {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements = [:]
            sqlite3_close_v2(handle)
            handle = nil
        }
    }

    deinit {
        close()
    }

    private func prepared(_ sql: String, _ handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= Self.statementLimit {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements = [:]
        }
        var statement: OpaquePointer?
        // PERSISTENT: the statement is kept and run many times.
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(handle, sql) }
        statements[sql] = statement
        return statement
    }

    private func error(_ handle: OpaquePointer, _ sql: String) -> StoreError {
        StoreError(code: "database", message: "\(String(cString: sqlite3_errmsg(handle))) in \(sql.prefix(120))")
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, column))
        default:
            // Text, and blobs read as text: the store writes none.
            guard let bytes = sqlite3_column_text(statement, column) else { return .null }
            let count = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        }
    }
}
