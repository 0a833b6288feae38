import Foundation
import Testing
import VeneerCore
import VeneerStore

/// A batch is resolved with one lookup of every identity it names, and its exposures and sticky assignments
/// are written many rows a statement; whatever that saves, one `append` of a list must leave the store exactly
/// as appending the same events one at a time does.
@Suite("Store: a batch equals its events one by one")
struct StoreBatchTests {
    typealias S = StoreSupport

    /// Known and new people, a sign-in that merges two persons, a shared device that moves to another user,
    /// and exposures whose bucket version goes up and down within the batch.
    static var events: [TrackEvent] {
        [
            // Already stored before the batch (see `before`): p-known, and the user "kim" on p-kim.
            S.event("b01", at: 1_000, profile: "p-known"),
            S.exposure("b02", selector: "hero", arm: "A", profile: "p-known", at: 1_001),
            S.exposure("b03", selector: "hero", arm: "B", version: 2, profile: "p-known", at: 1_002),
            S.exposure("b04", selector: "hero", arm: "C", version: 2, profile: "p-known", at: 1_003),
            S.exposure("b05", selector: "hero", arm: "D", version: 1, profile: "p-known", at: 1_004),
            // Someone new, seen twice.
            S.event("b06", at: 1_010, profile: "p-new"),
            S.exposure("b07", selector: "promo", arm: "welcome", control: true, profile: "p-new", at: 1_011),
            // p-new signs in as kim: two persons become one.
            S.event("b08", TrackEvent.identifyName, at: 1_020, profile: "p-new", user: "kim"),
            S.event("b09", at: 1_021, profile: "p-kim"),
            S.exposure("b10", selector: "promo", arm: "other", profile: "p-kim", at: 1_022),
            // A kiosk used by ann, then by bob.
            S.event("b11", TrackEvent.identifyName, at: 1_030, profile: "kiosk", user: "ann"),
            S.event("b12", at: 1_031, profile: "kiosk"),
            S.event("b13", TrackEvent.identifyName, at: 1_032, profile: "kiosk", user: "bob"),
            S.exposure("b14", selector: "hero", arm: "A", profile: "kiosk", at: 1_033),
            // Back to the known person, after all of that.
            S.event("b15", at: 1_040, profile: "p-known", userAttributes: ["plan": "pro"]),
        ]
    }

    static var before: [TrackEvent] {
        [
            S.event("a01", at: 900, profile: "p-known"),
            S.exposure("a02", selector: "hero", arm: "Z", profile: "p-known", at: 901),
            S.event("a03", TrackEvent.identifyName, at: 902, profile: "p-kim", user: "kim"),
        ]
    }

    static let ids = ["p-known", "p-new", "p-kim", "kim", "kiosk", "ann", "bob"]

    /// What the store says about each id, without the person ids (random) but with who shares one.
    static func snapshot(_ store: any Store) async throws -> [String] {
        var lines: [String] = []
        var personOf: [String: String] = [:]
        for id in ids {
            guard var person = try await store.person(id) else {
                lines.append("\(id): nobody")
                continue
            }
            let sharesWith = ids.first { personOf[$0] == person.personId } ?? id
            personOf[id] = person.personId
            person.personId = sharesWith
            person.profileIds.sort()
            person.userIds.sort()
            lines.append(
                "\(id): same as \(sharesWith); profiles \(person.profileIds) users \(person.userIds) "
                    + "events \(person.eventCount) attributes \(person.userAttributes) "
                    + "exposures \(person.exposures.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.map(\.arm))" }) "
                    + "assignments \(person.assignments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.arm)/\($0.value.bucketVersion)/\($0.value.control)" })"
            )
        }
        return lines
    }

    @Test(arguments: StoreKind.allCases)
    func oneBatchLeavesWhatOneByOneLeaves(kind: StoreKind) async throws {
        guard let (batched, _) = try await S.open(kind), let (single, _) = try await S.open(kind) else {
            print("store batch test [\(kind)]: not run, see the reason printed above")
            return
        }
        do {
            #expect(try await batched.append(Self.before) == Self.before.count)
            #expect(try await single.append(Self.before) == Self.before.count)
            #expect(try await batched.append(Self.events) == Self.events.count)
            var added = 0
            for event in Self.events { added += try await single.append([event]) }
            #expect(added == Self.events.count)

            let expected = try await Self.snapshot(single)
            let actual = try await Self.snapshot(batched)
            #expect(actual == expected)
            // The cases the batch is meant to exercise did happen.
            let known = try #require(try await batched.person("p-known"))
            #expect(known.assignments["hero"]?.arm == "B", "the first arm of the highest bucket version sticks")
            #expect(known.assignments["hero"]?.bucketVersion == 2)
            #expect(try await batched.person("p-new")?.personId == batched.person("p-kim")?.personId)
            #expect(try await batched.person("kiosk")?.personId == batched.person("bob")?.personId)
            #expect(try await batched.person("kiosk")?.personId != batched.person("ann")?.personId)
        } catch {
            try? await batched.close()
            try? await single.close()
            throw error
        }
        try await batched.close()
        try await single.close()
    }
}
