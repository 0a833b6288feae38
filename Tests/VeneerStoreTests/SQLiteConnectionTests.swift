import Foundation
import Testing

@testable import VeneerStore

/// The store's own SQLite connection on a real file: statements kept and run again with new values, every
/// column type read back, errors named with their statement, and a failed statement leaving the connection
/// usable.
@Suite("SQLite connection")
struct SQLiteConnectionTests {
    /// Runs `body` on a connection to a new file holding one table, then closes it and removes the file.
    static func withConnection(_ body: (SQLiteConnection) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veneer-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let connection = try SQLiteConnection(path: folder.appendingPathComponent("c.sqlite").path)
        defer { connection.close() }
        _ = try connection.run("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, x DOUBLE, e TEXT)", [])
        try body(connection)
    }

    @Test func aKeptStatementRunsAgainWithNewValues() throws {
        try Self.withConnection { (connection: SQLiteConnection) throws in
            let insert = "INSERT INTO t (k, n, x, e) VALUES (?1, ?2, ?3, ?4) RETURNING k"
            for index in 0..<500 {
                let rows = try connection.run(
                    insert, [.text("key-\(index)-é"), .integer(Int64(index) << 40), .double(Double(index) / 4), .null])
                #expect(rows == [[.text("key-\(index)-é")]])
            }
            let rows = try connection.run("SELECT k, n, x, e FROM t WHERE n = ?1", [.integer(Int64(7) << 40)])
            #expect(rows == [[.text("key-7-é"), .integer(Int64(7) << 40), .double(1.75), .null]])
            // An empty text is a text, not a NULL.
            _ = try connection.run(insert, [.text(""), .integer(0), .double(0), .text("")])
            #expect(try connection.run("SELECT e FROM t WHERE k = ?1", [.text("")]) == [[.text("")]])
            #expect(try connection.run("SELECT COUNT(*) FROM t", []) == [[.integer(501)]])
        }
    }

    @Test func moreStatementsThanItKeepsStillRun() throws {
        try Self.withConnection { (connection: SQLiteConnection) throws in
            for index in 0..<(SQLiteConnection.statementLimit + 50) {
                #expect(try connection.run("SELECT \(index) + ?1", [.integer(1)]) == [[.integer(Int64(index) + 1)]])
            }
            #expect(try connection.run("SELECT 0 + ?1", [.integer(1)]) == [[.integer(1)]])
        }
    }

    @Test func errorsNameTheStatementAndLeaveTheConnectionUsable() throws {
        try Self.withConnection { (connection: SQLiteConnection) throws in
            let insert = "INSERT INTO t (k, n) VALUES (?1, ?2)"
            _ = try connection.run(insert, [.text("a"), .integer(1)])
            do {
                _ = try connection.run(insert, [.text("a"), .integer(2)])
                Issue.record("a repeated primary key was accepted")
            } catch let error as StoreError {
                #expect(error.code == "database")
                #expect(error.message.contains("UNIQUE constraint failed"), "\(error.message)")
                #expect(error.message.contains("INSERT INTO t"))
            }
            #expect(throws: StoreError.self) { try connection.run("SELEC nonsense", []) }
            // A value short is refused, not run with what the last run bound.
            do {
                _ = try connection.run(insert, [.text("c")])
                Issue.record("a statement ran with one of its two values")
            } catch let error as StoreError {
                #expect(error.message.contains("1 values for 2 parameters"), "\(error.message)")
            }
            // The statement that failed runs again.
            _ = try connection.run(insert, [.text("b"), .integer(3)])
            #expect(try connection.run("SELECT k FROM t ORDER BY k", []) == [[.text("a")], [.text("b")]])
            connection.close()
            #expect(throws: StoreError.self) { try connection.run("SELECT 1", []) }
        }
    }
}
