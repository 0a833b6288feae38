import Foundation
import Testing
import VeneerCore
import VeneerStore

/// One suite, two databases: every test runs against SQLite (a real file) and a real PostgreSQL.
@Suite("Store conformance")
struct StoreConformanceTests {
    typealias S = StoreSupport

    /// Runs `body` on a fresh store, or prints why the PostgreSQL half could not run.
    private func withStore(_ kind: StoreKind, _ body: (any Store) async throws -> Void) async throws {
        guard let (store, _) = try await S.open(kind) else {
            print("store conformance [\(kind)]: not run, see the reason printed above")
            return
        }
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func eventsAreStoredOncePerEventId(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = [S.event("e1", profile: "p1"), S.event("e2", profile: "p1"), S.event("e3", profile: "p1")]
            #expect(try await store.append(first) == 3)
            #expect(try await store.append(first + [S.event("e4", profile: "p1")]) == 1)
            #expect(try await store.append([S.event("e5", profile: "p1"), S.event("e5", profile: "p1")]) == 1)
            let person = try #require(try await store.person("p1"))
            #expect(person.eventCount == 5)
            #expect(person.recentEvents.count == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aThousandEventsInOneAppend(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let events = (0..<1000).map {
                S.event("bulk-\($0)", "Click On", at: 1_764_000_000_000 + Int64($0), profile: "p\($0 % 10)")
            }
            #expect(try await store.append(events) == 1000)
            #expect(try await store.append(events) == 0)
            let view = try await store.profileView(
                for: .init(sourceId: "1", profileId: "p3"), keys: [EventKey(event: "Click On")])
            #expect(view.eventSummaries[EventKey(event: "Click On")]?.total == 100)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownPersonHasAnEmptyView(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let view = try await store.profileView(
                for: .init(sourceId: "1", profileId: "nobody"), keys: [EventKey(event: "View Page")])
            #expect(view == ProfileView())
            #expect(try await store.person("nobody") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func identifyMergesTheAnonymousProfileIntoTheUser(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event("a1", profile: "p1", userAttributes: ["first_name": "Ada"]),
                S.event("a2", at: 1_764_000_000_100, profile: "p1"),
            ])
            // The user already exists on another device.
            _ = try await store.append([S.event("b1", at: 1_764_000_000_050, profile: "p2", user: "ada@x.com")])
            _ = try await store.append([
                S.event("id1", TrackEvent.identifyName, at: 1_764_000_000_200, profile: "p1", user: "ada@x.com")
            ])
            let view = try await store.profileView(
                for: .init(userId: "ada@x.com"), keys: [EventKey(event: "View Page")])
            #expect(view.eventSummaries[EventKey(event: "View Page")]?.total == 3)
            #expect(view.userAttributes["first_name"] == "Ada")
            let person = try #require(try await store.person("p1"))
            #expect(Set(person.profileIds) == ["p1", "p2"])
            #expect(person.userIds == ["ada@x.com"])
            // The same person is found by any of its ids.
            #expect(try await store.person("p2")?.personId == person.personId)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aliasJoinsTwoUsersAndTheLaterAttributeWins(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event(
                    "u1", TrackEvent.identifyName, at: 1000, profile: "pa", user: "old@x.com",
                    userAttributes: ["plan": "free", "city": "Oslo"]),
                S.event(
                    "u2", TrackEvent.identifyName, at: 2000, profile: "pb", user: "new@x.com",
                    userAttributes: ["plan": "pro"]),
            ])
            #expect(try await store.person("old@x.com")?.personId != store.person("new@x.com")?.personId)
            _ = try await store.append([
                S.event("al", TrackEvent.identifyName, at: 3000, profile: "pb", user: "new@x.com", another: "old@x.com")
            ])
            let person = try #require(try await store.person("old@x.com"))
            #expect(Set(person.userIds) == ["old@x.com", "new@x.com"])
            #expect(Set(person.profileIds) == ["pa", "pb"])
            #expect(person.userAttributes["plan"] == "pro")
            #expect(person.userAttributes["city"] == "Oslo")
            // A late event with an older timestamp does not overwrite a newer value.
            _ = try await store.append([S.event("late", at: 1500, user: "new@x.com", userAttributes: ["plan": "trial"])]
            )
            #expect(try await store.person("new@x.com")?.userAttributes["plan"] == "pro")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSharedDeviceMovesToTheUserWhoSignedInLast(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([S.event("s1", TrackEvent.identifyName, at: 1000, profile: "kiosk", user: "ann")]
            )
            _ = try await store.append([S.event("s2", TrackEvent.identifyName, at: 2000, profile: "kiosk", user: "bob")]
            )
            let ann = try #require(try await store.person("ann"))
            let bob = try #require(try await store.person("bob"))
            #expect(ann.personId != bob.personId)
            #expect(bob.profileIds == ["kiosk"])
            #expect(ann.userIds == ["ann"])
            #expect(try await store.person("kiosk")?.personId == bob.personId)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func groupLinksAnAccountAndItsAttributes(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event(
                    "g1", TrackEvent.identifyName, profile: "p1", account: "acme",
                    accountAttributes: ["tier": "enterprise"])
            ])
            // An account-only event updates the account for all its members.
            _ = try await store.append([
                S.event(
                    "g2", "Account updated", at: 1_764_000_000_500, account: "acme", accountAttributes: ["seats": 40])
            ])
            let view = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [])
            #expect(view.accountAttributes["tier"] == "enterprise")
            #expect(view.accountAttributes["seats"] == 40)
            #expect(try await store.person("p1")?.accountIds == ["acme"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func eventSummariesCountPerKeyAndFilter(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event("o1", "Product ordered", at: 1000, profile: "p1", data: ["amount": 10]),
                S.event("o2", "Product ordered", at: 2000, profile: "p1", data: ["amount": 60]),
                S.event("o3", "Product ordered", at: 3000, profile: "p1", data: ["amount": 100]),
                S.event("v1", "View Page", at: 1500, profile: "p1"),
            ])
            let big = EventKey(
                event: "Product ordered", filter: EventFilter(property: "amount", condition: .greaterThan(50)))
            let all = EventKey(event: "Product ordered")
            let never = EventKey(event: "Added to cart")
            let view = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [big, all, never])
            #expect(view.eventSummaries[big]?.timestamps == [2000, 3000])
            #expect(view.eventSummaries[all]?.total == 3)
            #expect(view.eventSummaries[all]?.count(since: 1500) == 2)
            #expect(view.eventSummaries[never] == nil)
            #expect(view.eventSummaries[EventKey(event: "View Page")] == nil)  // not asked for
            // Data is read only for the names a filter needs: all of them, or none.
            let onlyFiltered = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [big])
            #expect(onlyFiltered.eventSummaries[big]?.timestamps == [2000, 3000])
            let noFilter = try await store.profileView(
                for: .init(sourceId: "1", profileId: "p1"), keys: [all, EventKey(event: "View Page")])
            #expect(noFilter.eventSummaries[all]?.timestamps == [1000, 2000, 3000])
            #expect(noFilter.eventSummaries[EventKey(event: "View Page")]?.timestamps == [1500])
        }
    }

    /// A read `since` a time holds the events and exposures from then on, whatever mix of filtered and plain keys
    /// binds the names before the time bound; attributes and sticky arms come whole, and the person is named.
    /// A view is read in one statement that finds the person too: when the profile id and the user id name two
    /// persons, the user's is read, as `person` and the merge rules have it.
    @Test(arguments: StoreKind.allCases)
    func aViewOfAProfileAndAUserThatNameTwoPersonsIsTheUsers(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event("a1", "View Page", at: 1000, profile: "anonymous", userAttributes: ["seen": "anonymous"]),
                S.exposure("a2", selector: "hero", arm: "A", profile: "anonymous", at: 1100),
                S.event(
                    "b1", TrackEvent.identifyName, at: 2000, profile: "laptop", user: "ann",
                    userAttributes: ["seen": "ann"]),
                S.exposure("b2", selector: "hero", arm: "B", profile: "laptop", at: 2100),
            ])
            let anonymous = try #require(try await store.person("anonymous")?.personId)
            let ann = try #require(try await store.person("ann")?.personId)
            #expect(anonymous != ann)
            let views = EventKey(event: "View Page")
            for since: Int64? in [nil, 500] {
                let both = try await store.profileRead(
                    for: .init(sourceId: "1", profileId: "anonymous", userId: "ann"), keys: [views], since: since)
                #expect(both.personId == ann)
                #expect(both.view.userAttributes["seen"] == "ann")
                #expect(both.view.exposures["hero"]?.map(\.arm) == ["B"])
                #expect(both.view.eventSummaries[views] == nil)
                let profileOnly = try await store.profileRead(
                    for: .init(sourceId: "1", profileId: "anonymous"), keys: [views], since: since)
                #expect(profileOnly.personId == anonymous)
                #expect(profileOnly.view.userAttributes["seen"] == "anonymous")
                #expect(profileOnly.view.exposures["hero"]?.map(\.arm) == ["A"])
                #expect(profileOnly.view.eventSummaries[views]?.timestamps == [1000])
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aTailReadHoldsOnlyTheEndOfTheHistory(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([
                S.event("t1", "Product ordered", at: 1000, profile: "p1", data: ["amount": 60]),
                S.event("t2", "Product ordered", at: 2000, profile: "p1", data: ["amount": 10]),
                S.event("t3", "Product ordered", at: 3000, profile: "p1", data: ["amount": 70]),
                S.event("t4", "View Page", at: 2500, profile: "p1", userAttributes: ["tier": "gold"]),
                S.exposure("t5", selector: "hero", arm: "B", profile: "p1", at: 1500),
                S.exposure("t6", selector: "hero", arm: "B", profile: "p1", at: 2600),
            ])
            let big = EventKey(
                event: "Product ordered", filter: EventFilter(property: "amount", condition: .greaterThan(50)))
            let all = EventKey(event: "Product ordered")
            let views = EventKey(event: "View Page")
            let who = DecisionRequest.Identification(sourceId: "1", profileId: "p1")
            for keys: Set<EventKey> in [[all, views], [big], [big, views], [big, all]] {
                let tail = try await store.profileRead(for: who, keys: keys, since: 2000)
                #expect(tail.since == 2000)
                #expect(tail.personId != nil)
                let whole = try await store.profileRead(for: who, keys: keys, since: nil)
                #expect(whole.personId == tail.personId)
                for key in keys {
                    let expected = whole.view.eventSummaries[key]?.timestamps.filter { $0 >= 2000 }
                    #expect(tail.view.eventSummaries[key]?.timestamps == expected, "\(key) in \(keys)")
                }
                #expect(tail.view.exposures["hero"]?.map(\.timestamp) == [2600])
                #expect(tail.view.userAttributes["tier"] == "gold", "attributes come whole")
                #expect(tail.view.assignments["hero"]?.arm == "B", "sticky arms come whole")
                // The tail laid over a view read whole before gives the view read whole now.
                var merged = whole.view
                merged.replaceTail(from: 2000, with: tail.view)
                #expect(merged == whole.view)
            }
            let nobody = try await store.profileRead(
                for: .init(sourceId: "1", profileId: "nobody"), keys: [views], since: 2000)
            #expect(nobody.personId == nil)
            #expect(nobody.view == ProfileView())
        }
    }

    @Test(arguments: StoreKind.allCases)
    func exposuresKeepHistoryAndTheFirstArmSticks(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([S.exposure("x1", selector: "hero", arm: "B", profile: "p1", at: 1000)])
            _ = try await store.append([
                S.exposure("x2", selector: "hero", arm: "A", profile: "p1", session: "s2", at: 2000)
            ])
            var view = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [])
            #expect(view.exposures["hero"]?.map(\.arm) == ["B", "A"])
            #expect(view.exposures["hero"]?.map(\.sessionId) == ["s1", "s2"])
            #expect(view.assignments["hero"] == StickyAssignment(arm: "B", control: false, bucketVersion: 1))
            // A new bucket version re-assigns.
            _ = try await store.append([
                S.exposure("x3", selector: "hero", arm: "A", version: 2, profile: "p1", at: 3000)
            ])
            view = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [])
            #expect(view.assignments["hero"] == StickyAssignment(arm: "A", control: false, bucketVersion: 2))
            // An exposure is also an ordinary event.
            #expect(try await store.person("p1")?.eventCount == 3)
            // A control exposure is recorded as control.
            _ = try await store.append([
                S.exposure("x4", selector: "promo", arm: "welcome", control: true, profile: "p1", at: 4000)
            ])
            view = try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [])
            #expect(view.exposures["promo"]?.first?.control == true)
            #expect(view.assignments["promo"]?.control == true)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func mergingKeepsTheEarliestStickyArm(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append([S.exposure("m1", selector: "hero", arm: "A", profile: "laptop", at: 1000)])
            _ = try await store.append([S.exposure("m2", selector: "hero", arm: "B", profile: "phone", at: 2000)])
            _ = try await store.append([S.event("i1", TrackEvent.identifyName, at: 3000, profile: "phone", user: "u1")])
            _ = try await store.append([S.event("i2", TrackEvent.identifyName, at: 4000, profile: "laptop", user: "u1")]
            )
            let view = try await store.profileView(for: .init(userId: "u1"), keys: [])
            #expect(view.assignments["hero"]?.arm == "A")
            #expect(view.exposures["hero"]?.count == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func rejectStopsStorageAndAcceptResumesIt(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.append([S.event("c1", profile: "p1")]) == 1)
            try await store.recordConsent(
                Consent(
                    action: .reject, timestamp: 2000, profileId: "p1", sourceId: "1", category: "marketing",
                    validUntil: "unlimited"))
            #expect(try await store.append([S.event("c2", profile: "p1")]) == 0)
            #expect(try await store.append([S.exposure("c3", selector: "hero", arm: "A", profile: "p1")]) == 0)
            var person = try #require(try await store.person("p1"))
            #expect(person.optedOut)
            #expect(person.eventCount == 1)
            #expect(person.consents.map(\.action) == [.reject])
            #expect(person.consents.first?.category == "marketing")
            #expect(try await store.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: []).exposures.isEmpty)
            // A rejected person's identify does not link new identities either.
            _ = try await store.append([S.event("c4", TrackEvent.identifyName, profile: "p1", user: "hidden")])
            #expect(try await store.person("p1")?.userIds == [])

            try await store.recordConsent(
                Consent(action: .accept, timestamp: 3000, profileId: "p1", category: "marketing"))
            #expect(try await store.append([S.event("c5", profile: "p1")]) == 1)
            person = try #require(try await store.person("p1"))
            #expect(!person.optedOut)
            #expect(person.eventCount == 2)
            // An older consent arriving late does not overturn a newer one.
            try await store.recordConsent(
                Consent(action: .reject, timestamp: 2500, profileId: "p1", category: "marketing"))
            #expect(try await store.person("p1")?.optedOut == false)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aConsentForAnUnknownUserCreatesThePerson(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.recordConsent(Consent(action: .reject, timestamp: 1000, userId: "quiet@x.com"))
            #expect(try await store.append([S.event("q1", profile: "pq", user: "quiet@x.com")]) == 0)
            #expect(try await store.person("quiet@x.com")?.optedOut == true)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsStoreEachEventExactlyOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let added = try await withThrowingTaskGroup(of: Int.self) { group in
                for batch in 0..<40 {
                    group.addTask {
                        // Batches overlap by half: every event is sent twice.
                        let events = (0..<20).map { index in
                            S.event(
                                "cc-\(batch * 10 + index)", at: 1_764_000_000_000 + Int64(index),
                                profile: "p\(index % 3)")
                        }
                        return try await store.append(events)
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(added == 40 * 10 + 10)
            var total = 0
            for profile in ["p0", "p1", "p2"] { total += try await store.person(profile)?.eventCount ?? 0 }
            #expect(total == 410)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func twoStoresOnOneDatabaseShareExposuresAndStickyArms(kind: StoreKind) async throws {
        guard let (first, url) = try await S.open(kind) else { return }
        let second = try await StoreFactory.open(url: url, logger: S.logger)
        do {
            _ = try await first.append([
                S.exposure("t1", selector: "once-banner", arm: "welcome", profile: "p1", at: 1000)
            ])
            let view = try await second.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: [])
            #expect(view.exposures["once-banner"]?.count == 1)
            // The second instance exposes another arm: the first one's assignment holds.
            _ = try await second.append([
                S.exposure("t2", selector: "once-banner", arm: "other", profile: "p1", at: 2000)
            ])
            #expect(
                try await first.profileView(for: .init(sourceId: "1", profileId: "p1"), keys: []).assignments[
                    "once-banner"]?.arm == "welcome")
            // The same events through both at once: stored once.
            let events = (0..<200).map { S.event("both-\($0)", profile: "p\($0 % 7)") }
            async let a = first.append(events)
            async let b = second.append(events)
            #expect(try await a + b == 200)
        } catch {
            try? await first.close()
            try? await second.close()
            throw error
        }
        try await first.close()
        try await second.close()
    }

    @Test(arguments: StoreKind.allCases)
    func dataSurvivesReopening(kind: StoreKind) async throws {
        guard let (store, url) = try await S.open(kind) else { return }
        _ = try await store.append([S.event("r1", profile: "p1", userAttributes: ["name": "Ünïcødé ✓ \"quoted\""])])
        try await store.close()
        let reopened = try await StoreFactory.open(url: url, logger: S.logger)
        #expect(try await reopened.person("p1")?.userAttributes["name"] == "Ünïcødé ✓ \"quoted\"")
        #expect(try await reopened.append([S.event("r1", profile: "p1")]) == 0)
        try await reopened.close()
    }

    @Test func badStoreURLsAreRefusedWithAReason() async throws {
        await #expect(throws: StoreError.self) { try await StoreFactory.open(url: "mysql://x", logger: S.logger) }
        await #expect(throws: StoreError.self) { try await StoreFactory.open(url: "sqlite:", logger: S.logger) }
        // Nothing listens on port 1.
        await #expect(throws: StoreError.self) {
            try await StoreFactory.open(url: "postgres://postgres@127.0.0.1:1/none", logger: S.logger)
        }
    }
}
