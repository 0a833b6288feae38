import Foundation
import Testing

@testable import VeneerStore

/// Reads marked as background (a profile cache refresh) go to a connection and thread of their own at the store
/// writes' lower priority; other reads keep the normal readers. Both read the same file.
@Suite("SQLite background reads")
struct SQLiteBackgroundReadTests {
    @Test func backgroundReadsRunAtTheWritersPriorityAndSeeWhatWasCommitted() async throws {
        let url = try #require(try await StoreSupport.freshURL(.sqlite))
        let backend = try await SQLiteBackend.open(
            path: String(url.dropFirst("sqlite:".count)), logger: StoreSupport.logger)
        try await backend.transaction { session in
            try await session.execute("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT NOT NULL)")
            try await session.execute("INSERT INTO t (k, n) VALUES ($1, $2)", [.text("a"), .integer(1)])
        }
        let pageRead = try await backend.read("SELECT k, n FROM t", [])
        let backgroundRead = try await StoreReadPriority.$isBackground.withValue(true) {
            try await backend.read("SELECT k, n FROM t", [])
        }
        #expect(pageRead == [[.text("a"), .integer(1)]])
        #expect(backgroundRead == pageRead, "the background connection reads the same committed rows")

        let pageNiceness = try await backend.readerThreadNiceness()
        let backgroundNiceness = try await StoreReadPriority.$isBackground.withValue(true) {
            try await backend.readerThreadNiceness()
        }
        #if os(Linux)
        #expect(backgroundNiceness == max(ThreadPriority.background, pageNiceness))
        // Unless the whole test process already runs at the writers' nice value or lower priority.
        #expect(
            pageNiceness < ThreadPriority.background || ThreadPriority.currentNiceness >= ThreadPriority.background,
            "reads that pages wait for keep the normal priority")
        #endif
        try await backend.close()
    }
}
