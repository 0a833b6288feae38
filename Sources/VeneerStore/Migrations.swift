/// The schema, as numbered steps applied once each at start (in a write transaction, so several proxies
/// starting together on one PostgreSQL apply each step once). The same SQL serves SQLite and PostgreSQL.
enum Migrations {
    static let steps: [[String]] = [
        [
            "CREATE TABLE IF NOT EXISTS persons (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL, opted_out BIGINT NOT NULL DEFAULT 0)",
            "CREATE TABLE IF NOT EXISTS identities (kind TEXT NOT NULL, value TEXT NOT NULL, person_id TEXT NOT NULL, PRIMARY KEY (kind, value))",
            "CREATE INDEX IF NOT EXISTS identities_person ON identities (person_id)",
            "CREATE TABLE IF NOT EXISTS attributes (person_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (person_id, key))",
            "CREATE TABLE IF NOT EXISTS account_attributes (account_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL, PRIMARY KEY (account_id, key))",
            "CREATE TABLE IF NOT EXISTS person_accounts (person_id TEXT NOT NULL, account_id TEXT NOT NULL, linked_at BIGINT NOT NULL, PRIMARY KEY (person_id, account_id))",
            """
            CREATE TABLE IF NOT EXISTS events (event_id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT, ts BIGINT NOT NULL,
              person_id TEXT, source_id TEXT, profile_id TEXT, user_id TEXT, account_id TEXT, another_user_id TEXT,
              session_id TEXT, data TEXT NOT NULL, user_attributes TEXT NOT NULL, account_attributes TEXT NOT NULL,
              received_at BIGINT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS events_person ON events (person_id, name, ts)",
            """
            CREATE TABLE IF NOT EXISTS exposures (event_id TEXT PRIMARY KEY, person_id TEXT NOT NULL, selector TEXT NOT NULL,
              arm TEXT NOT NULL, control BIGINT NOT NULL, bucket_version BIGINT NOT NULL, session_id TEXT, ts BIGINT NOT NULL)
            """,
            "CREATE INDEX IF NOT EXISTS exposures_person ON exposures (person_id, selector, ts)",
            """
            CREATE TABLE IF NOT EXISTS assignments (person_id TEXT NOT NULL, selector TEXT NOT NULL, arm TEXT NOT NULL,
              control BIGINT NOT NULL, bucket_version BIGINT NOT NULL, assigned_at BIGINT NOT NULL, PRIMARY KEY (person_id, selector))
            """,
            """
            CREATE TABLE IF NOT EXISTS consents (person_id TEXT NOT NULL, category TEXT NOT NULL, action TEXT NOT NULL,
              ts BIGINT NOT NULL, valid_until TEXT, body TEXT NOT NULL, PRIMARY KEY (person_id, category))
            """,
        ],
        // 2: a reject holds until its validUntil. `opted_out_until` (milliseconds; 0 = not opted out) replaces
        // the `opted_out` flag, which stays in the table unused; earlier rejects are kept as never ending.
        [
            "ALTER TABLE persons ADD COLUMN opted_out_until BIGINT NOT NULL DEFAULT 0",
            "UPDATE persons SET opted_out_until = 9223372036854775807 WHERE opted_out <> 0",
            "ALTER TABLE consents ADD COLUMN expires_at BIGINT",
        ],
        // 3: a person's history indexed by time first, and an exposure kept once, in its event's row. A refresh
        // reads a person's last seconds, a range of (person, ts); the exposure table's index made it walk every
        // exposure the person ever had. And each commit changes about a page and a half of each person-keyed
        // index per visitor it holds: with the exposures table gone (each of its rows copied an exposure event,
        // under an index of its own), a commit of the proxy's page views writes 40-50% fewer pages
        // (`scripts/bench-store-commit`). Filling the new columns and building the new index take a while, once,
        // on a large existing database.
        [
            "ALTER TABLE events ADD COLUMN exposure_selector TEXT",
            "ALTER TABLE events ADD COLUMN exposure_arm TEXT",
            "ALTER TABLE events ADD COLUMN exposure_control BIGINT",
            """
            UPDATE events SET exposure_selector = exposures.selector, exposure_arm = exposures.arm,
              exposure_control = exposures.control
            FROM exposures WHERE exposures.event_id = events.event_id
            """,
            "CREATE INDEX IF NOT EXISTS events_person_time ON events (person_id, ts, name)",
            "DROP INDEX IF EXISTS events_person",
            "DROP TABLE IF EXISTS exposures",
        ],
    ]

    static func apply(on backend: any SQLBackend) async throws {
        _ = try await backend.transaction { session in
            try await session.execute(
                "CREATE TABLE IF NOT EXISTS veneer_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            let applied = Set(
                try await session.query("SELECT version FROM veneer_migrations", []).compactMap { $0[0].integer })
            for (index, step) in steps.enumerated() where !applied.contains(Int64(index + 1)) {
                for statement in step {
                    try await session.execute(statement)
                }
                try await session.execute(
                    "INSERT INTO veneer_migrations (version, applied_at) VALUES ($1, $2)",
                    [.integer(Int64(index + 1)), .integer(EpochClock.milliseconds())])
            }
            return 0
        }
    }
}
