import Foundation
import Testing
import VeneerCore
import VeneerTestSupport

@testable import VeneerStore

/// A consent's `validUntil`: every form the SDKs send, and a reject that stops holding once it has passed —
/// on SQLite and on PostgreSQL, and for a database created before expiry existed.
@Suite("Consent: validUntil")
struct ConsentExpiryTests {
    typealias S = StoreSupport

    static let consentTime: Int64 = 1_780_000_000_000  // 2026-05-28T20:26:40Z

    @Test(
        "each form of validUntil",
        arguments: [
            (nil, nil), ("", nil), ("unlimited", nil), ("UNLIMITED", nil),
            ("1811536000000", 1_811_536_000_000),  // epoch milliseconds (js, android)
            ("1811536000", 1_811_536_000_000),  // epoch seconds (node, python, php)
            ("31536000", consentTime + 31_536_000_000),  // a duration in seconds (swift)
            ("2027-01-01", 1_798_761_600_000),
            ("2027-01-01T12:00:00Z", 1_798_804_800_000),
            ("2027-01-01T12:00:00.500+01:00", 1_798_801_200_500),
        ] as [(String?, Int64?)])
    func forms(validUntil: String?, expected: Int64?) throws {
        #expect(try Consent.expiry(of: validUntil, from: Self.consentTime) == expected)
        let consent = Consent(action: .reject, timestamp: Self.consentTime, profileId: "p", validUntil: validUntil)
        #expect(consent.expiresAt == expected)
        #expect(consent.optedOutUntil == (expected ?? Int64.max))
        #expect(Consent(action: .accept, timestamp: Self.consentTime, validUntil: validUntil).optedOutUntil == 0)
    }

    @Test(
        "what is not a date, an epoch or a duration is refused with the accepted forms",
        arguments: [
            "tomorrow", "2027-13-01", "-5", "1e12", "12:00", "0x10",
        ])
    func refused(validUntil: String) {
        #expect {
            try Consent.expiry(of: validUntil, from: Self.consentTime)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == "bad-valid-until" && error.message.contains("\"unlimited\", an ISO 8601 date")
                && error.message.contains(validUntil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRejectHoldsUntilItsValidUntilAndNoLonger(kind: StoreKind) async throws {
        guard let (store, _) = try await S.open(kind) else {
            print("consent expiry [\(kind)]: not run, see the reason printed above")
            return
        }
        let now = EpochClock.milliseconds()
        do {
            // A reject that ended yesterday: the person is tracked.
            try await store.recordConsent(
                Consent(
                    action: .reject, timestamp: now - 2 * 86_400_000, profileId: "expired", sourceId: "1",
                    validUntil: String((now - 86_400_000) / 1000)))
            #expect(try await store.append([S.event("e1", at: now, profile: "expired")]) == 1)
            var person = try #require(try await store.person("expired"))
            #expect(!person.optedOut)
            #expect(person.consents.first?.expiresAt == (now - 86_400_000) / 1000 * 1000)

            // A reject for a year (swift's duration form): nothing stored, and `veneer profile` can say until when.
            try await store.recordConsent(
                Consent(action: .reject, timestamp: now, profileId: "year", sourceId: "1", validUntil: "31536000"))
            #expect(try await store.append([S.event("y1", at: now, profile: "year")]) == 0)
            person = try #require(try await store.person("year"))
            #expect(person.optedOut)
            #expect(person.optedOutUntil == now + 31_536_000_000)

            // A reject that ends in a few seconds: refused now, stored once it has passed. The window is wide
            // because a loaded CI machine can take a second or more per store call.
            let start = EpochClock.milliseconds()
            let end = start + 8_000
            try await store.recordConsent(
                Consent(action: .reject, timestamp: start, profileId: "soon", sourceId: "1", validUntil: String(end)))
            #expect(try await store.append([S.event("s1", at: start, profile: "soon")]) == 0)
            #expect(try await store.person("soon")?.optedOut == true)
            #expect(EpochClock.milliseconds() < end, "the checks above ran inside the reject's window")
            try await Task.sleep(for: .milliseconds(max(0, end - EpochClock.milliseconds()) + 300))
            #expect(try await store.append([S.event("s2", at: end + 300, profile: "soon")]) == 1)
            #expect(try await store.person("soon")?.optedOut == false)
            #expect(try await store.person("soon")?.eventCount == 1)

            // An unlimited reject stays.
            try await store.recordConsent(Consent(action: .reject, timestamp: now, profileId: "always", sourceId: "1"))
            #expect(try await store.append([S.event("a1", at: now, profile: "always")]) == 0)
            person = try #require(try await store.person("always"))
            #expect(person.optedOut)
            #expect(person.optedOutUntil == nil)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    /// A SQLite file made by the first schema, with a person who rejected: after the upgrade, still opted out.
    @Test func aDatabaseFromBeforeExpiryKeepsItsRejects() async throws {
        let folder = TestScratch.root.appendingPathComponent("veneer-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.path + "/veneer.sqlite"
        try await S.writeSQLite(
            path,
            Migrations.steps[0] + [
                "CREATE TABLE veneer_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                "INSERT INTO veneer_migrations VALUES (1, 0)",
                "INSERT INTO persons (id, created_at, opted_out) VALUES ('old', 0, 1)",
                "INSERT INTO identities VALUES ('profile', 'old-profile', 'old')",
                "INSERT INTO consents VALUES ('old', '', 'reject', 1000, NULL, '{}')",
            ])
        let store = try await StoreFactory.open(url: "sqlite:\(path)", logger: S.logger)
        do {
            #expect(try await store.person("old-profile")?.optedOut == true)
            #expect(try await store.append([S.event("o1", profile: "old-profile")]) == 0)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}
