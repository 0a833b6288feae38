import Foundation
import Testing
import VeneerCore
import VeneerTestSupport

@testable import VeneerStore

/// A person's events are indexed by time first, and an exposure is kept once, in its event's row (schema step 3):
/// a refresh of a cached view reads a range of the person's last seconds, however long the history. A database
/// from before the step is upgraded in place (its exposures table moved into the events) and reads the same.
@Suite("Store: a person's history indexed by time")
struct TimeIndexTests {
    typealias S = StoreSupport

    @Test(arguments: StoreKind.allCases)
    func aDatabaseFromBeforeStepThreeIsUpgradedAndReadsTheSame(kind: StoreKind) async throws {
        guard let url = try await S.freshURL(kind) else {
            print("time index upgrade [\(kind)]: not run, see the reason printed above")
            return
        }
        let path = String(url.dropFirst("sqlite:".count))
        defer {
            if kind == .sqlite {
                try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
            }
        }
        var rows: [String] = []
        for step in 0..<30 {
            let time = 1000 + step * 100
            let name = step % 3 == 0 ? "Product ordered" : "View Page"
            rows.append(
                "INSERT INTO events VALUES ('e\(step)', '\(name)', NULL, \(time), 'old', '1', 'old-profile', NULL, NULL, NULL, 's1', '{}', '{}', '{}', \(time))"
            )
            // Before step 3 an exposure was stored twice: as an event, and as a row of the exposures table.
            let selector = step % 2 == 0 ? "hero" : "cta"
            let control = step % 5 == 0
            let data = #"{"selector":"\#(selector)","type":"experiment","variant":"B","control":\#(control)}"#
            rows.append(
                "INSERT INTO events VALUES ('x\(step)', 'Experience exposure', NULL, \(time), 'old', '1', 'old-profile', NULL, NULL, NULL, 's1', '\(data)', '{}', '{}', \(time))"
            )
            rows.append(
                "INSERT INTO exposures VALUES ('x\(step)', 'old', '\(selector)', 'B', \(control ? 1 : 0), 1, 's1', \(time))"
            )
        }
        let statements =
            Migrations.steps[0] + Migrations.steps[1] + [
                "CREATE TABLE veneer_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                "INSERT INTO veneer_migrations VALUES (1, 0), (2, 0)",
                "INSERT INTO persons (id, created_at) VALUES ('old', 0)",
                "INSERT INTO identities VALUES ('profile', 'old-profile', 'old')",
            ] + rows
        switch kind {
        case .sqlite: try await S.writeSQLite(path, statements)
        case .postgres:
            try await S.run(S.psql, [url, "-q", "-v", "ON_ERROR_STOP=1", "-c", statements.joined(separator: ";\n")])
        }
        let store = try await StoreFactory.open(url: url, logger: S.logger)
        do {
            let who = DecisionRequest.Identification(sourceId: "1", profileId: "old-profile")
            let views = EventKey(event: "View Page")
            let orders = EventKey(event: "Product ordered")
            let whole = try await store.profileRead(for: who, keys: [views, orders], since: nil)
            #expect(whole.view.eventSummaries[views]?.total == 20)
            #expect(whole.view.eventSummaries[orders]?.total == 10)
            #expect(whole.view.exposures["hero"]?.count == 15)
            #expect(whole.view.exposures["cta"]?.count == 15)
            let tail = try await store.profileRead(for: who, keys: [views, orders], since: 3500)
            #expect(tail.view.eventSummaries[views]?.timestamps == [3500, 3600, 3800, 3900])
            #expect(tail.view.eventSummaries[orders]?.timestamps == [3700])
            #expect(tail.view.exposures["hero"]?.map(\.timestamp) == [3600, 3800])
            #expect(tail.view.exposures["cta"]?.map(\.timestamp) == [3500, 3700, 3900])
            #expect(tail.view.exposures["cta"]?.map(\.control) == [true, false, false])
            #expect(tail.view.exposures["cta"]?.allSatisfy { $0.arm == "B" && $0.sessionId == "s1" } == true)
            let person = try #require(try await store.person("old-profile"))
            #expect(person.exposures["hero"]?.map(\.timestamp) == whole.view.exposures["hero"]?.map(\.timestamp))
            #expect(person.exposures["cta"]?.filter(\.control).count == 3)
            // New events after the upgrade are read with the old ones.
            _ = try await store.append([S.event("new", at: 4000, profile: "old-profile")])
            let later = try await store.profileRead(for: who, keys: [views], since: 3500)
            #expect(later.view.eventSummaries[views]?.timestamps == [3500, 3600, 3800, 3900, 4000])
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        // What SQLite was left with; PostgreSQL answered the same reads above.
        guard kind == .sqlite else { return }
        let indexes = try await S.readSQLite(
            path,
            #"' '.join(sorted(r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")))"#
        )
        #expect(indexes == "events_person_time identities_person")
        let tables = try await S.readSQLite(
            path, #"c.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'exposures'").fetchone()[0]"#)
        #expect(tables == "0", "the exposures table, copies of exposure events, is gone")
        // A tail read is a range of the index: the person (found by its identities within the same statement, as
        // `profileRead` does) and the time bound both narrow it.
        let person =
            "(SELECT person_id FROM identities WHERE (kind = 'profile' AND value = 'old') ORDER BY CASE WHEN kind = 'user' THEN 0 ELSE 1 END LIMIT 1)"
        for (query, expected) in [
            (
                "SELECT exposure_selector, exposure_arm, ts, session_id, exposure_control FROM events WHERE person_id = \(person) AND name = 'Experience exposure' AND exposure_selector IS NOT NULL AND ts >= 3500",
                "events_person_time (person_id=? AND ts>?)"
            ),
            (
                "SELECT name, NULL, ts FROM events WHERE person_id = \(person) AND name IN ('Product ordered', 'View Page') AND ts >= 3500",
                "COVERING INDEX events_person_time (person_id=? AND ts>?)"
            ),
        ] {
            let plan = try await S.readSQLite(
                path, "' | '.join(r[3] for r in c.execute('EXPLAIN QUERY PLAN ' + \"\(query)\"))")
            #expect(plan.contains(expected), "\(query): \(plan)")
        }
    }
}
