import Foundation
import Testing

@testable import VeneerStore

/// The insert that skips rows whose key is taken, as each database spells it, run on a real SQLite file and a
/// real PostgreSQL database inside a write transaction (where SQLite's spelling matters): taken keys are skipped
/// whether stored before or earlier in the same statement's rows, the others are stored and returned.
@Suite("SQL dialects")
struct SQLDialectTests {
    static func backend(_ kind: StoreKind) async throws -> (any SQLBackend)? {
        guard let url = try await StoreSupport.freshURL(kind) else { return nil }
        switch kind {
        case .sqlite:
            return try await SQLiteBackend.open(
                path: String(url.dropFirst("sqlite:".count)), logger: StoreSupport.logger)
        case .postgres: return try await PostgresBackend.open(url: url, logger: StoreSupport.logger)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func takenKeysAreSkippedAndTheRestStored(kind: StoreKind) async throws {
        guard let backend = try await Self.backend(kind) else {
            print("SQL dialects: no PostgreSQL server for the \(kind) case")
            return
        }
        let returned = try await backend.transaction { session in
            try await session.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL)")
            try await session.execute("INSERT INTO t (k, n) VALUES ($1, $2)", [.text("a"), .integer(1)])
            let statement = session.dialect.insertSkippingTakenKeys(
                into: "t (k, n)", key: "k", rows: placeholderRows(4, columns: 2), returning: "k")
            let binds: [SQLValue] = [
                .text("a"), .integer(2), .text("b"), .integer(3), .text("c"), .integer(4), .text("b"), .integer(5),
            ]
            return try await session.query(statement, binds).compactMap { $0[0].text }.sorted()
        }
        #expect(returned == ["b", "c"], "a was stored before, the second b earlier in the statement")
        let rows = try await backend.read("SELECT k, n FROM t ORDER BY k", [])
        #expect(rows == [[.text("a"), .integer(1)], [.text("b"), .integer(3)], [.text("c"), .integer(4)]])
        try await backend.close()
    }

    @Test func sqliteSpellsItOrIgnoreAndPostgresOnConflict() {
        let rows = placeholderRows(1, columns: 2)
        #expect(
            SQLDialect.sqlite.insertSkippingTakenKeys(into: "t (k, n)", key: "k", rows: rows)
                == "INSERT OR IGNORE INTO t (k, n) VALUES \(rows)")
        #expect(
            SQLDialect.postgres.insertSkippingTakenKeys(into: "t (k, n)", key: "k", rows: rows, returning: "k")
                == "INSERT INTO t (k, n) VALUES \(rows) ON CONFLICT (k) DO NOTHING RETURNING k")
    }
}
