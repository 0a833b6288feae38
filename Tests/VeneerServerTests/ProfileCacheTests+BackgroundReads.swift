import Synchronization
import Testing
import VeneerCore
import VeneerServer
import VeneerStore

extension ProfileCacheTests {
    /// The real store, counting the reads the cache starts (whole and tail apart), and holding every read back once
    /// told to, until released: what a busy reader thread does to refreshes.
    final class ReadCountingStore: Store {
        private let store: any Store
        private let holding = Mutex<(hold: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
        private let counts = Mutex((whole: 0, tail: 0, background: 0))

        init(_ store: any Store) { self.store = store }

        var wholeReads: Int { counts.withLock { $0.whole } }
        var tailReads: Int { counts.withLock { $0.tail } }
        var readsStarted: Int { counts.withLock { $0.whole + $0.tail } }
        /// Reads made with `StoreReadPriority.isBackground` set: nobody waits for them.
        var backgroundReads: Int { counts.withLock { $0.background } }

        func holdReads() { holding.withLock { $0.hold = true } }

        func releaseReads() {
            let waiting = holding.withLock { state in
                state.hold = false
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }

        func profileRead(
            for identification: DecisionRequest.Identification, keys: Set<EventKey>, since: Int64?
        ) async throws -> ProfileRead {
            counts.withLock { counts in
                if since == nil { counts.whole += 1 } else { counts.tail += 1 }
                if StoreReadPriority.isBackground { counts.background += 1 }
            }
            await withCheckedContinuation { continuation in
                let held = holding.withLock { state in
                    if state.hold { state.waiting.append(continuation) }
                    return state.hold
                }
                if !held { continuation.resume() }
            }
            return try await store.profileRead(for: identification, keys: keys, since: since)
        }

        func append(_ events: [TrackEvent]) async throws -> Int { try await store.append(events) }
        func recordConsent(_ consent: Consent) async throws { try await store.recordConsent(consent) }
        func person(_ id: String) async throws -> PersonRecord? { try await store.person(id) }
        func close() async throws { try await store.close() }
    }

    static func visitors(_ count: Int) -> [DecisionRequest.Identification] {
        (0..<count).map { DecisionRequest.Identification(sourceId: "1", profileId: "p\($0)") }
    }

    /// A cache (5 s life, a minute's grace) holding the views of `count` visitors, read once each and now a second
    /// past their life.
    static func staleViews(
        of count: Int, refreshLimit: Int
    ) async throws -> (store: ReadCountingStore, cache: ProfileCache, visitors: [DecisionRequest.Identification]) {
        let store = ReadCountingStore(try await Self.openStore())
        let clock = ManualClock()
        let cache = ProfileCache(
            store: store, timeToLive: .seconds(5), staleGrace: .seconds(60), refreshLimit: refreshLimit,
            now: { clock.now })
        let visitors = Self.visitors(count)
        for visitor in visitors { _ = try await cache.view(for: visitor, keys: []) }
        clock.advance(by: .seconds(6))
        return (store, cache, visitors)
    }

    /// Stale hits of many visitors at once (traffic after a lull) start no more background reads than the limit:
    /// the others are served as they are, counted, and the next hit after a read finished starts another.
    @Test func aBurstOfStaleHitsStartsNoMoreReadsThanTheLimit() async throws {
        let (store, cache, visitors) = try await Self.staleViews(of: 5, refreshLimit: 2)
        #expect(store.readsStarted == 5)
        store.holdReads()
        for visitor in visitors {
            #expect(cache.cachedView(for: visitor, keys: []) != nil, "served while stale, with or without a read")
        }
        #expect(cache.statistics.staleHits == 5)
        #expect(cache.statistics.refreshesDeferred == 3, "two reads in flight, three hits deferred")
        #expect(try await ReporterTests.waitUntil(10) { store.readsStarted == 7 })
        // Another hit while both are held starts nothing, however often it comes.
        for _ in 0..<3 { _ = cache.cachedView(for: visitors[4], keys: []) }
        #expect(store.readsStarted == 7)
        #expect(cache.statistics.refreshesDeferred == 6)

        store.releaseReads()
        // The first two are read again; a deferred visitor's next hit starts its read once a place is free.
        let started = try await ReporterTests.waitUntil(10) {
            _ = cache.cachedView(for: visitors[4], keys: [])
            return store.readsStarted == 8
        }
        #expect(started, "a deferred visitor's later hit starts its read")
        try await Self.waitUntilFresh(visitors[4], in: cache)
        #expect(cache.statistics.misses == 5, "no page waited for the store after the first reads")
        try await store.close()
    }

    /// A refresh, which serves the old view meanwhile, asks the store for a background read; a miss, which a page
    /// waits for, does not.
    @Test func refreshesReadInTheBackgroundAndMissesDoNot() async throws {
        let (store, cache, visitors) = try await Self.staleViews(of: 2, refreshLimit: 1)
        #expect(store.readsStarted == 2)
        #expect(store.backgroundReads == 0, "the first reads were misses")
        #expect(cache.cachedView(for: visitors[0], keys: []) != nil)
        try await Self.waitUntilFresh(visitors[0], in: cache)
        #expect(store.readsStarted == 3)
        #expect(store.backgroundReads == 1, "the stale hit's refresh")
        _ = try await cache.view(for: DecisionRequest.Identification(sourceId: "1", profileId: "new"), keys: [])
        #expect(store.readsStarted == 4)
        #expect(store.backgroundReads == 1, "a miss is not a background read")
        try await store.close()
    }

    /// The limit is the default's floor: a cache told 0 still refreshes, one view at a time.
    @Test func aRefreshLimitBelowOneIsOne() async throws {
        let (store, cache, visitors) = try await Self.staleViews(of: 2, refreshLimit: 0)
        store.holdReads()
        for visitor in visitors { _ = cache.cachedView(for: visitor, keys: []) }
        #expect(try await ReporterTests.waitUntil(10) { store.readsStarted == 3 })
        #expect(cache.statistics.refreshesDeferred == 1)
        store.releaseReads()
        try await Self.waitUntilFresh(visitors[0], in: cache)
        try await store.close()
    }

    /// Waits until the visitor's view is within its life again: its background read has been laid.
    static func waitUntilFresh(_ visitor: DecisionRequest.Identification, in cache: ProfileCache) async throws {
        let hits = cache.statistics.hits
        let fresh = try await ReporterTests.waitUntil(10) {
            _ = cache.cachedView(for: visitor, keys: [])
            return cache.statistics.hits > hits
        }
        #expect(fresh, "the background read was laid")
    }

    /// Visitors first read together are read whole again spread over a fifth either side of the interval, not all
    /// in the same second; each of them once, and tails in between.
    @Test func wholeReadsOfVisitorsReadTogetherAreSpread() async throws {
        let store = ReadCountingStore(try await Self.openStore())
        let (cache, clock, epoch) = Self.cacheOnManualClocks(store: store)
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        let visitors = Self.visitors(100)
        // Known to the store, so that a refresh can read a tail (a visitor with no person is read whole).
        _ = try await store.append(
            visitors.map { visitor in
                TrackEvent(
                    eventId: "first-\(visitor.profileId ?? "")", name: "View Page", timestamp: epoch(),
                    sourceId: "1", profileId: visitor.profileId)
            })
        for visitor in visitors { _ = try await cache.view(for: visitor, keys: keys) }
        #expect(store.wholeReads == 100)

        var wholeReadsBySecond: [Int: Int] = [:]
        for second in stride(from: 6, through: 84, by: 6) {
            clock.advance(by: .seconds(6))
            let before = store.wholeReads
            for visitor in visitors { _ = try await cache.view(for: visitor, keys: keys) }
            wholeReadsBySecond[second] = store.wholeReads - before
        }
        let early = wholeReadsBySecond.filter { $0.key < 48 }.values.reduce(0, +)
        #expect(early == 0, "tails only before 0.8 of the 60 s interval")
        #expect(wholeReadsBySecond.values.reduce(0, +) == 100, "each visitor read whole once more by 84 s")
        let seconds = wholeReadsBySecond.filter { $0.value > 0 }.keys.sorted()
        #expect(seconds.count >= 3, "spread over 48…72 s: \(wholeReadsBySecond)")
        #expect(seconds.allSatisfy { (48...72).contains($0) }, "\(wholeReadsBySecond)")
        #expect(store.tailReads == 14 * 100 - 100, "every other refresh read a tail")
        try await store.close()
    }
}
