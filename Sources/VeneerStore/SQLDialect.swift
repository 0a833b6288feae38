/// Where SQLite and PostgreSQL need different SQL for the same statement.
///
/// ```swift
/// try await session.execute(
///     session.dialect.insertSkippingTakenKeys(into: "exposures (event_id, person_id)", key: "event_id", rows: rows),
///     binds)
/// ```
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    /// An `INSERT` of `rows` (a `VALUES` list) that skips each row whose `key` is already stored. `into` is the
    /// table with its column list; `returning` an optional column list.
    ///
    /// SQLite spells it `INSERT OR IGNORE`, not `ON CONFLICT (key) DO NOTHING`: inside a transaction, a many-row
    /// insert that could still abort (`DO NOTHING` leaves the `NOT NULL` constraints aborting) keeps a statement
    /// journal, a copy of every page it changes. Without it the writer spends about an eighth less CPU per event
    /// (`scripts/bench-sqlite-insert`, SQLite 3.40: medians of four runs 37.1 against 32.2 µs). `OR IGNORE` also
    /// skips a row that breaks another constraint, where PostgreSQL fails the statement: the rows these
    /// statements insert hold a value for every `NOT NULL` column by their types, and `key` is their tables' only
    /// unique column, so no row reaches that difference.
    func insertSkippingTakenKeys(into table: String, key: String, rows: String, returning: String? = nil) -> String {
        let returned = returning.map { " RETURNING \($0)" } ?? ""
        switch self {
        case .sqlite: return "INSERT OR IGNORE INTO \(table) VALUES \(rows)\(returned)"
        case .postgres: return "INSERT INTO \(table) VALUES \(rows) ON CONFLICT (\(key)) DO NOTHING\(returned)"
        }
    }
}
