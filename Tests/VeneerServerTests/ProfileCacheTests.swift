import Foundation
import Synchronization
import Testing
import VeneerCore
import VeneerServer
import VeneerStore
import VeneerTestSupport

/// The cache in front of a real SQLite store: what it answers without waiting, and when it goes back to the store.
@Suite("Profile cache", .timeLimit(.minutes(1)))
struct ProfileCacheTests {
    /// Time that moves only when the test says, so that ages do not depend on how busy the machine is.
    final class ManualClock: Sendable {
        private let current = Mutex(ContinuousClock.now)
        var now: ContinuousClock.Instant { current.withLock { $0 } }
        func advance(by duration: Duration) { current.withLock { $0 += duration } }
    }

    static let visitor = DecisionRequest.Identification(sourceId: "1", profileId: "p1")

    static func openStore() async throws -> any Store {
        let folder = TestScratch.root.appendingPathComponent("veneer-cache-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
    }

    /// Another writer (the API, another proxy) setting the visitor's tier behind the cache's back.
    static func setTier(_ tier: String, in store: any Store) async throws {
        _ = try await store.append([
            TrackEvent(
                eventId: UUID().uuidString, name: "Identify", timestamp: Int64(Date().timeIntervalSince1970 * 1000),
                sourceId: "1",
                profileId: "p1", userAttributes: ["tier": .string(tier)])
        ])
    }

    static func tier(_ view: ProfileView?) -> String? {
        view?.userAttributes["tier"]?.stringValue
    }

    /// A cache (5 s life) whose view of the visitor was read with tier "silver", after which another writer set
    /// "gold" in the store.
    static func cacheHoldingAnOldView(
        staleGrace: Duration
    ) async throws -> (store: any Store, clock: ManualClock, cache: ProfileCache) {
        let store = try await Self.openStore()
        let clock = ManualClock()
        let cache = ProfileCache(store: store, timeToLive: .seconds(5), staleGrace: staleGrace, now: { clock.now })
        try await Self.setTier("silver", in: store)
        #expect(Self.tier(try await cache.view(for: Self.visitor, keys: [])) == "silver")
        try await Self.setTier("gold", in: store)
        return (store, clock, cache)
    }

    @Test func aViewPastItsLifeAnswersAtOnceWhileTheStoreIsReadAgain() async throws {
        let (store, clock, cache) = try await Self.cacheHoldingAnOldView(staleGrace: .seconds(5))
        #expect(Self.tier(cache.cachedView(for: Self.visitor, keys: [])) == "silver", "within its life: cached")
        #expect(cache.statistics.staleHits == 0)

        clock.advance(by: .seconds(6))
        #expect(Self.tier(cache.cachedView(for: Self.visitor, keys: [])) == "silver", "past its life: served once")
        #expect(cache.statistics.staleHits == 1)

        let refreshed = try await ReporterTests.waitUntil(10) {
            Self.tier(cache.cachedView(for: Self.visitor, keys: [])) == "gold"
        }
        #expect(refreshed, "the background read replaced the view")
        #expect(cache.statistics.misses == 1, "no caller waited for the store after the first read")
        try await store.close()
    }

    @Test func aViewPastItsLifeAndGraceIsNotServed() async throws {
        let (store, clock, cache) = try await Self.cacheHoldingAnOldView(staleGrace: .seconds(5))
        clock.advance(by: .seconds(10))
        #expect(cache.cachedView(for: Self.visitor, keys: []) == nil, "too old to answer without the store")
        #expect(Self.tier(try await cache.view(for: Self.visitor, keys: [])) == "gold")
        #expect(cache.statistics.staleHits == 0)
        #expect(cache.statistics.misses == 2, "the first read and this one")
        try await store.close()
    }

    @Test func theWaitingReadNeverServesAViewPastItsLife() async throws {
        let (store, clock, cache) = try await Self.cacheHoldingAnOldView(staleGrace: .seconds(30))
        clock.advance(by: .seconds(6))
        // The API asks through `view(for:)`: it reads the store rather than answer from a stale view.
        #expect(Self.tier(try await cache.view(for: Self.visitor, keys: [])) == "gold")
        #expect(cache.statistics.staleHits == 0)
        try await store.close()
    }

    static func pageView(_ id: String, at timestamp: Int64) -> TrackEvent {
        TrackEvent(eventId: id, name: "View Page", timestamp: timestamp, sourceId: "1", profileId: "p1")
    }

    /// The proxy's own events reach views read from a store that does not have them yet, and leave the overlay a
    /// grace after the store confirms them, in whatever order it confirms them.
    @Test func ownEventsStayOverStoreReadsUntilConfirmedInAnyOrder() async throws {
        let store = try await Self.openStore()
        let clock = ManualClock()
        let cache = ProfileCache(store: store, timeToLive: .seconds(5), staleGrace: .seconds(5), now: { clock.now })
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        let events = (0..<4).map { Self.pageView("e\($0)", at: start + Int64($0)) }
        cache.record(events, keys: keys)
        #expect(cache.statistics.pending == 4)

        let read = try await cache.view(for: Self.visitor, keys: keys)
        #expect(read.eventSummaries[EventKey(event: "View Page")]?.timestamps.count == 4, "laid over an empty store")

        // Stored out of order, as a replay can: e3 and e1 first.
        _ = try await store.append([events[3], events[1]])
        cache.confirmStored([events[3], events[1]])
        clock.advance(by: .seconds(6))
        _ = try await store.append([events[0]])
        cache.confirmStored([events[0]])
        #expect(cache.statistics.pending == 2, "e1 and e3 left after their grace; e0 is within it, e2 unconfirmed")

        clock.advance(by: .seconds(11))
        let again = try await cache.view(for: Self.visitor, keys: keys)
        #expect(
            again.eventSummaries[EventKey(event: "View Page")]?.timestamps.count == 4,
            "three from the store, e2 from the overlay, none twice")
        clock.advance(by: .seconds(2))
        cache.confirmStored([])
        #expect(cache.statistics.pending == 1, "e0 left too; e2 stays until the store has it")
        let stillPending = try await cache.view(for: Self.visitor, keys: keys)
        #expect(stillPending.eventSummaries[EventKey(event: "View Page")]?.timestamps.count == 4)
        clock.advance(by: .seconds(3600))
        cache.confirmStored([])
        #expect(cache.statistics.pending == 0, "an event the store never confirmed leaves after an hour")
        try await store.close()
    }

    static func exposureEvent(_ id: String, arm: String, at timestamp: Int64, session: String) -> TrackEvent {
        TrackEvent.exposure(
            Exposure(
                selector: "hero", optimizationName: "Hero", group: nil, kind: .personalization, arm: arm,
                control: false, bucketVersion: 1, assignmentKey: "p1"),
            eventId: id, timestamp: timestamp, sourceId: "1", profileId: "p1", userId: nil, sessionId: session,
            url: nil, device: .desktop, applied: true)
    }

    /// Exposures in the overlay are laid over a store read that already has some of them, among a longer
    /// history: each shows once, including two of one millisecond and one recorded after a later one.
    @Test func ownExposuresShowOnceOverStoreReadsThatHaveThem() async throws {
        let store = try await Self.openStore()
        let clock = ManualClock()
        let cache = ProfileCache(store: store, timeToLive: .seconds(5), staleGrace: .seconds(5), now: { clock.now })
        let start = Int64(Date().timeIntervalSince1970 * 1000) - 60_000
        let history = (0..<50).map {
            Self.exposureEvent("h\($0)", arm: "A", at: start + Int64($0) * 100, session: "s0")
        }
        _ = try await store.append(history)

        let now = start + 30_000
        let own = [
            Self.exposureEvent("o0", arm: "A", at: now, session: "s1"),
            Self.exposureEvent("o1", arm: "B", at: now, session: "s1"),
            Self.exposureEvent("o2", arm: "A", at: now + 5, session: "s1"),
            Self.exposureEvent("o3", arm: "A", at: now + 2, session: "s1"),
        ]
        cache.record(own, keys: [])
        // The store has two of them (one of the same millisecond as another), the cache does not know yet.
        _ = try await store.append([own[1], own[3]])

        let view = try await cache.view(for: Self.visitor, keys: [])
        let records = view.exposures["hero"] ?? []
        #expect(records.count == 54, "50 stored before, 4 of the proxy's own, none twice")
        #expect(records.map(\.timestamp) == records.map(\.timestamp).sorted(), "in time order")
        #expect(records.filter { $0.sessionId == "s1" }.map(\.arm).sorted() == ["A", "A", "A", "B"])
        try await store.close()
    }

    /// A cache on a manual clock whose wall clock moves with it, so that tail reads begin where the test expects.
    static func cacheOnManualClocks(
        store: any Store
    ) -> (cache: ProfileCache, clock: ManualClock, epoch: @Sendable () -> Int64) {
        let clock = ManualClock()
        let clockStart = clock.now
        let epochStart = Int64(Date().timeIntervalSince1970 * 1000)
        let epoch: @Sendable () -> Int64 = {
            let elapsed = (clock.now - clockStart).components
            return epochStart + elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000
        }
        let cache = ProfileCache(
            store: store, timeToLive: .seconds(5), staleGrace: .seconds(5), wholeReadInterval: .seconds(60),
            tailMargin: .seconds(15), now: { clock.now }, epochMilliseconds: epoch)
        return (cache, clock, epoch)
    }

    static func pageViews(_ view: ProfileView) -> Int? {
        view.eventSummaries[EventKey(event: "View Page")]?.total
    }

    /// Refreshes read only the end of the history: what other writers add there shows at the next refresh, the
    /// proxy's own events are never counted twice however many refreshes pass, and an event stored with a time
    /// before the tail's start shows at the next whole read.
    @Test func refreshesReadTheTailAndAWholeReadCatchesLateEvents() async throws {
        let store = try await Self.openStore()
        let (cache, clock, epoch) = Self.cacheOnManualClocks(store: store)
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        let hourAgo = epoch() - 3_600_000
        _ = try await store.append((0..<3).map { Self.pageView("old\($0)", at: hourAgo + Int64($0)) })
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 3, "a whole read")

        let own = (0..<2).map { Self.pageView("own\($0)", at: epoch() + Int64($0)) }
        cache.record(own, keys: keys)
        _ = try await store.append(own)
        cache.confirmStored(own)
        clock.advance(by: .seconds(6))
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 5)

        _ = try await store.append([Self.pageView("theirs", at: epoch())])
        clock.advance(by: .seconds(6))
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 6, "another writer's event")

        // Stored now, but with a time long before the tail begins: a tail read does not see it.
        _ = try await store.append([Self.pageView("late", at: hourAgo - 1)])
        for _ in 0..<4 {
            clock.advance(by: .seconds(6))
            #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 6, "tails only, none twice")
        }
        clock.advance(by: .seconds(40))
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 7, "a whole read again")
        clock.advance(by: .seconds(6))
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 7)
        #expect(cache.statistics.misses == 9)
        try await store.close()
    }

    /// When a sign-in moves the visitor's profile id to another person, the next refresh reads that person's
    /// view whole rather than lay a tail over the first person's history.
    @Test func aTailIsNotLaidOverAnotherPersonsView() async throws {
        let store = try await Self.openStore()
        let (cache, clock, epoch) = Self.cacheOnManualClocks(store: store)
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        let hourAgo = epoch() - 3_600_000
        func event(_ id: String, _ name: String, profile: String, user: String?, at: Int64) -> TrackEvent {
            TrackEvent(eventId: id, name: name, timestamp: at, sourceId: "1", profileId: profile, userId: user)
        }
        _ = try await store.append([
            event("a0", TrackEvent.identifyName, profile: "p1", user: "u1", at: hourAgo),
            event("a1", "View Page", profile: "p1", user: nil, at: hourAgo + 1),
            event("a2", "View Page", profile: "p1", user: nil, at: hourAgo + 2),
            event("b1", "View Page", profile: "elsewhere", user: "u2", at: hourAgo + 3),
            event("b2", "View Page", profile: "elsewhere", user: "u2", at: hourAgo + 4),
            event("b3", "View Page", profile: "elsewhere", user: "u2", at: hourAgo + 5),
        ])
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 2)
        // u2 signs in on p1's device, which belonged to u1: p1 now belongs to u2's person.
        _ = try await store.append([event("s1", TrackEvent.identifyName, profile: "p1", user: "u2", at: epoch())])
        clock.advance(by: .seconds(6))
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 3, "u2's history, read whole")
        try await store.close()
    }

    /// A large cache is split in shards, each with its own lock: many visitors' views, overlays, confirmations and
    /// evictions land in every shard and add up as in one cache.
    @Test func manyVisitorsSpreadOverShardsAddUpAsOneCache() async throws {
        let store = try await Self.openStore()
        let clock = ManualClock()
        let capacity = ProfileCache.shardedCapacity
        let cache = ProfileCache(
            store: store, capacity: capacity, timeToLive: .seconds(5), staleGrace: .seconds(5), now: { clock.now })
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        let start = Int64(Date().timeIntervalSince1970 * 1000)
        let visitors = (0..<300).map { DecisionRequest.Identification(sourceId: "1", profileId: "p\($0)") }
        let events = visitors.indices.map {
            TrackEvent(
                eventId: "e\($0)", name: "View Page", timestamp: start + Int64($0), sourceId: "1",
                profileId: "p\($0)")
        }
        cache.record(events, keys: keys)
        #expect(cache.statistics.pending == 300)
        for visitor in visitors {
            #expect(Self.pageViews(try await cache.view(for: visitor, keys: keys)) == 1, "its own event laid over")
        }
        #expect(cache.statistics.entries == 300)
        #expect(cache.statistics.misses == 300)
        // A second event for each reaches the cached view at once.
        cache.record(
            visitors.indices.map {
                TrackEvent(
                    eventId: "f\($0)", name: "View Page", timestamp: start + 1000 + Int64($0), sourceId: "1",
                    profileId: "p\($0)")
            }, keys: keys)
        for visitor in visitors {
            #expect(cache.cachedView(for: visitor, keys: keys).flatMap(Self.pageViews) == 2)
        }
        #expect(cache.statistics.hits == 300)

        _ = try await store.append(events)
        cache.confirmStored(events)
        clock.advance(by: .seconds(6))
        cache.confirmStored([])
        #expect(cache.statistics.pending == 300, "the first events left the overlay after their grace")

        // Past its capacity, each shard evicts its oldest: the cache holds at most `capacity` views, and the
        // shards together hold nearly that many.
        for index in 0..<(capacity + 1000) {
            _ = try await cache.view(
                for: DecisionRequest.Identification(sourceId: "1", profileId: "q\(index)"), keys: keys)
        }
        #expect(cache.statistics.entries <= capacity)
        #expect(cache.statistics.entries >= capacity * 3 / 4)
        try await store.close()
    }

    /// A small cache is one exact LRU.
    @Test func aSmallCacheKeepsExactlyItsCapacity() async throws {
        let store = try await Self.openStore()
        let cache = ProfileCache(store: store, capacity: 100)
        for index in 0..<150 {
            _ = try await cache.view(
                for: DecisionRequest.Identification(sourceId: "1", profileId: "s\(index)"), keys: [])
        }
        #expect(cache.statistics.entries == 100)
        #expect(
            cache.cachedView(for: DecisionRequest.Identification(sourceId: "1", profileId: "s149"), keys: []) != nil)
        #expect(cache.cachedView(for: DecisionRequest.Identification(sourceId: "1", profileId: "s0"), keys: []) == nil)
        try await store.close()
    }
}
