import Foundation
import Synchronization
public import VeneerCore
public import VeneerStore

/// Profile views in a bounded LRU, read through the store. The proxy's own writes (exposures, page views)
/// reach cached views at once, and are laid over views read from the store until the store has them, so a
/// `once` experience is not shown twice while its exposure waits in the reporter's queue.
///
/// ```swift
/// let cache = ProfileCache(store: store)
/// let view = try await cache.view(for: request.identification, keys: config.eventKeys)
/// cache.record([exposureEvent], keys: config.eventKeys)
/// ```
public final class ProfileCache: Sendable {
    private struct Entry {
        var view: ProfileView
        var keys: Set<EventKey>
        var loadedAt: ContinuousClock.Instant
        /// Whom the store resolved the key to when it was read: a tail is laid only over the same person's view.
        var personId: String?
        /// When a refresh reads the view whole again rather than its tail: `wholeReadInterval` after the last whole
        /// read began, give or take a fifth, so that visitors first read together (a warm-up, traffic after a lull)
        /// are not all read whole again in the same second.
        var wholeReadDue: ContinuousClock.Instant
        /// `loadedAt` on the wall clock (ms since 1970), which event times are on.
        var loadedAtEpoch: Int64
    }

    fileprivate struct Pending {
        var event: TrackEvent
        /// Numbers events in the order they were recorded, across visitors.
        var sequence: UInt64
        var submittedAt: ContinuousClock.Instant
        /// When the store confirmed it; kept a little longer so a read that began before is still covered.
        var storedAt: ContinuousClock.Instant?
    }

    private struct State {
        var entries = LeastRecentlyUsed<String, Entry>()
        var pending: [String: [Pending]] = [:]
        var pendingCount = 0
        var nextSequence: UInt64 = 0
        var hits = 0
        var misses = 0
        var staleHits = 0
        /// Stale hits that started no refresh because `refreshLimit` were in flight.
        var refreshesDeferred = 0
        /// Keys whose view is being read again while the old one is served.
        var refreshing: Set<String> = []
    }

    private let store: any Store
    /// Told how long each lookup took and whether the cache answered it.
    private let observe: (@Sendable (_ fromCache: Bool, _ duration: Duration) -> Void)?
    private let timeToLive: Duration
    /// How long past its life a view may still answer the proxy while it is read again in the background. A
    /// minute covers the time a visitor reads a page, so that the next page of a visit does not wait for the store.
    private let staleGrace: Duration
    /// The clock every age is measured by; tests move it by hand.
    private let now: @Sendable () -> ContinuousClock.Instant
    /// The wall clock in ms since 1970, which bounds what a tail read asks for.
    private let epochMilliseconds: @Sendable () -> Int64
    /// How long views are refreshed by reading their tail only, before a whole read again. The whole read picks
    /// up what a tail misses: events stored with a time older than the tail's start (a spool replayed after an
    /// outage, an SDK's late batch).
    private let wholeReadInterval: Duration
    /// Background reads (refreshes) in flight at once, at most. A burst of stale hits (traffic after a lull, a
    /// page rate that visits every visitor within a second) would otherwise start a read per visitor at once, and
    /// those reads would take the cores that the pages in flight need. A stale hit that finds them all busy serves
    /// the view without starting one; the visitor's next page starts it.
    private let refreshLimit: Int
    private let refreshesInFlight = Atomic<Int>(0)
    /// How far before the last read a tail read begins: events that other writers stored since, with a time
    /// up to this much older than that read, are in the tail. Writers store within about a second of an event
    /// (the reporter's batches); an older time (an SDK's late batch, a replayed spool) waits for the whole read.
    private let tailMargin: Duration
    /// One part of the cache, with its own lock: both event loops take a lock for every page, and with one lock for
    /// all they waited on each other (a contended lock is a system call, and often a sleep). A key always lives in
    /// the same shard; each shard is an LRU of its share of the capacity.
    private final class Shard: Sendable {
        let state = Mutex(State())
    }

    private let shards: [Shard]
    /// The capacity and overlay limit of one shard.
    private let shardCapacity: Int
    private let shardPendingLimit: Int
    private let lastPrune = Mutex<ContinuousClock.Instant?>(nil)
    /// How long a stored event stays in the overlay after the store confirmed it.
    private let overlayGrace: Duration = .seconds(5)
    private static let pendingLimit = 200_000
    /// Caches this large or larger are split in `shardCount` shards; a smaller one is a single, exact LRU.
    public static let shardedCapacity = 4096
    static let shardCount = 16

    public init(
        store: any Store, capacity: Int = 50_000, timeToLive: Duration = .seconds(5),
        staleGrace: Duration = .seconds(60), wholeReadInterval: Duration = .seconds(60),
        tailMargin: Duration = .seconds(5), refreshLimit: Int = ProfileCache.defaultRefreshLimit,
        observe: (@Sendable (_ fromCache: Bool, _ duration: Duration) -> Void)? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        epochMilliseconds: (@Sendable () -> Int64)? = nil
    ) {
        self.now = now
        self.epochMilliseconds = epochMilliseconds ?? { Int64(Date().timeIntervalSince1970 * 1000) }
        self.wholeReadInterval = wholeReadInterval
        self.tailMargin = tailMargin
        self.refreshLimit = max(1, refreshLimit)
        self.store = store
        self.observe = observe
        let capacity = max(1, capacity)
        let shardCount = capacity >= Self.shardedCapacity ? Self.shardCount : 1
        self.shards = (0..<shardCount).map { _ in Shard() }
        self.shardCapacity = max(1, capacity / shardCount)
        self.shardPendingLimit = Self.pendingLimit / shardCount
        self.timeToLive = timeToLive
        self.staleGrace = staleGrace
    }

    /// One refresh at a time per two cores: it hops between a task and a reader thread, so each keeps about one
    /// thread busy. (The SQLite store reads them all on one background thread; PostgreSQL takes them in parallel.)
    public static var defaultRefreshLimit: Int { max(1, ProcessInfo.processInfo.activeProcessorCount / 2) }

    private func shardIndex(_ key: String) -> Int {
        shards.count == 1 ? 0 : Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))
    }

    private func shard(_ key: String) -> Shard { shards[shardIndex(key)] }

    /// The cache key: the user id when there is one, else the profile id.
    static func key(userId: String?, profileId: String?) -> String? {
        if let userId, !userId.isEmpty { return "u:\(userId)" }
        if let profileId, !profileId.isEmpty { return "p:\(profileId)" }
        return nil
    }

    public func view(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) async throws
        -> ProfileView
    {
        guard let key = Self.key(userId: identification.userId, profileId: identification.profileId) else {
            return ProfileView()
        }
        if let cached = lookUp(key: key, keys: keys, staleAllowed: false).view { return cached }
        return try await load(key: key, identification: identification, keys: keys)
    }

    /// Reads the view from the store, lays the proxy's own unstored events over it, and caches it. A view read
    /// whole less than `wholeReadInterval` ago is brought up to date by reading only its tail: a visitor who
    /// browses for an hour has a long history, and every `timeToLive` of it would otherwise be read again.
    private func load(
        key: String, identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) async throws -> ProfileView {
        let readStarted = now()
        let readStartedEpoch = epochMilliseconds()
        defer { observe?(false, now() - readStarted) }
        let keyShard = shard(key)
        // Only what the tail read needs: a copy of the cached view would share its history, and the first change to
        // a shared history copies all of it.
        let base: (personId: String, loadedAtEpoch: Int64)? = keyShard.state.withLock { state in
            guard let entry = state.entries[key], entry.keys == keys, let personId = entry.personId,
                readStarted < entry.wholeReadDue
            else { return nil }
            return (personId, entry.loadedAtEpoch)
        }
        if let base {
            let since = base.loadedAtEpoch - tailMargin.milliseconds
            let tail = try await store.profileRead(for: identification, keys: keys, since: since)
            if tail.personId == base.personId,
                let refreshed = layTail(
                    tail.view, from: since, key: key, personId: base.personId, keys: keys, readStarted: readStarted,
                    readStartedEpoch: readStartedEpoch)
            {
                return refreshed
            }
        }
        let read = try await store.profileRead(for: identification, keys: keys, since: nil)
        var view = read.view
        // Own events the store may not have yet: unconfirmed ones, and ones confirmed after this read began. They
        // are laid over the view outside the lock, since against a long history that is the costly part, and the
        // event loops wait for this lock; what was recorded meanwhile is laid over under it.
        let (overlay, recordedLater) = keyShard.state.withLock { ($0.pending[key] ?? [], $0.nextSequence) }
        Self.layOverlay(overlay, over: &view, readStarted: readStarted, keys: keys)
        return keyShard.state.withLock { state in
            let list = state.pending[key] ?? []
            // By index: a copy of a pending event retains every string and dictionary it holds.
            // Lists are in recording order: the new events are at the end.
            var first = list.endIndex
            while first > list.startIndex, list[first - 1].sequence >= recordedLater { first -= 1 }
            for index in first..<list.endIndex {
                Self.apply(list[index].event, to: &view, keys: keys, skipDuplicates: true)
            }
            state.entries.set(
                key,
                Entry(
                    view: view, keys: keys, loadedAt: readStarted, personId: read.personId,
                    wholeReadDue: readStarted + wholeReadInterval * Double.random(in: 0.8..<1.2),
                    loadedAtEpoch: readStartedEpoch), capacity: shardCapacity)
            return view
        }
    }

    /// Lays `tail`, read from `since` on, over the cached view where it is stored, then the proxy's own events
    /// the store may not have yet. In place, under the lock: the cached view is not shared then, so a refresh
    /// costs what the tail and the overlay hold, where a copy laid over cost the visitor's whole history. The view
    /// holds the proxy's own events up to now: those in the tail's span are dropped with the rest of it, and come
    /// back from the store or from the overlay. Returns nil when the entry is gone or now holds another person or
    /// other keys, and the entry unchanged when a read that began later was laid over it already.
    private func layTail(
        _ tail: ProfileView, from since: Int64, key: String, personId: String, keys: Set<EventKey>,
        readStarted: ContinuousClock.Instant, readStartedEpoch: Int64
    ) -> ProfileView? {
        shard(key).state.withLock { state in
            let overlay = state.pending[key] ?? []
            var refreshed: ProfileView?
            state.entries.update(key) { entry in
                guard entry.keys == keys, entry.personId == personId else { return }
                // A read that began later (a miss while this refresh ran) was laid already: it holds more.
                guard entry.loadedAt <= readStarted else {
                    refreshed = entry.view
                    return
                }
                entry.view.replaceTail(from: since, with: tail)
                Self.layOverlay(overlay, over: &entry.view, readStarted: readStarted, keys: keys)
                entry.loadedAt = readStarted
                entry.loadedAtEpoch = readStartedEpoch
                refreshed = entry.view
            }
            // Marked as recently used, as a read that sets the entry does.
            if refreshed != nil { _ = state.entries[key] }
            return refreshed
        }
    }

    /// Lays the proxy's own events that a read begun at `readStarted` may lack (unconfirmed, or confirmed since)
    /// over `view`, each once.
    private static func layOverlay(
        _ overlay: [Pending], over view: inout ProfileView, readStarted: ContinuousClock.Instant, keys: Set<EventKey>
    ) {
        // By index: a copy of a pending event retains every string and dictionary it holds.
        for index in overlay.indices where overlay[index].storedAt.map({ $0 >= readStarted }) ?? true {
            apply(overlay[index].event, to: &view, keys: keys, skipDuplicates: true)
        }
    }

    /// The view when the cache holds one, without waiting: what an event loop asks first, so that only a miss
    /// costs a trip to the store. A miss is counted by the `view` call that follows it.
    ///
    /// A view past its life but within `staleGrace` of it is still returned, once a background read of the
    /// store has been started for it: a visitor who keeps browsing never waits for the store. The proxy's own
    /// events are laid over cached views as they happen, so what such a view lacks is only what other writers
    /// (other instances, the API) stored in the last seconds, as with any cached view.
    public func cachedView(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) -> ProfileView? {
        guard let key = Self.key(userId: identification.userId, profileId: identification.profileId) else {
            return ProfileView()
        }
        let (cached, refresh) = lookUp(key: key, keys: keys, staleAllowed: true)
        if refresh {
            Task {
                // Nobody waits for it: the store may serve it after the reads of pages in flight.
                _ = try? await StoreReadPriority.$isBackground.withValue(true) {
                    try await self.load(key: key, identification: identification, keys: keys)
                }
                self.shard(key).state.withLock { _ = $0.refreshing.remove(key) }
                self.refreshesInFlight.subtract(1, ordering: .relaxed)
            }
        }
        return cached
    }

    /// The cached view within its life, or (when `staleAllowed`) within `staleGrace` past it, with whether a
    /// background read should start. Without `staleAllowed`, nothing found counts as a miss.
    private func lookUp(
        key: String, keys: Set<EventKey>, staleAllowed: Bool
    ) -> (view: ProfileView?, refresh: Bool) {
        let now = self.now()
        let found: (view: ProfileView?, refresh: Bool) = shard(key).state.withLock { state in
            if let entry = state.entries[key], entry.keys == keys {
                let age = now - entry.loadedAt
                if age < timeToLive {
                    state.hits += 1
                    return (entry.view, false)
                }
                if staleAllowed, age < timeToLive + staleGrace {
                    state.staleHits += 1
                    guard !state.refreshing.contains(key) else { return (entry.view, false) }
                    guard claimRefresh() else {
                        state.refreshesDeferred += 1
                        return (entry.view, false)
                    }
                    state.refreshing.insert(key)
                    return (entry.view, true)
                }
            }
            if !staleAllowed { state.misses += 1 }
            return (nil, false)
        }
        if found.view != nil { observe?(true, self.now() - now) }
        return found
    }

    /// A place among the refreshes in flight, when one is free.
    private func claimRefresh() -> Bool {
        if refreshesInFlight.add(1, ordering: .relaxed).oldValue < refreshLimit { return true }
        refreshesInFlight.subtract(1, ordering: .relaxed)
        return false
    }

    /// The proxy's own events, not yet stored: applied to cached views now and to views read later.
    public func record(_ events: [TrackEvent], keys: Set<EventKey>) {
        let now = self.now()
        // A page's events are one visitor's: each run of events with one key takes the lock and finds its entry
        // and its overlay once.
        let eventKeys = events.map { Self.key(userId: $0.userId, profileId: $0.profileId) }
        var start = events.startIndex
        while start < events.endIndex {
            let key = eventKeys[start]
            var end = start + 1
            while end < events.endIndex, eventKeys[end] == key { end += 1 }
            if let key {
                let run = events[start..<end]
                shard(key).state.withLock { state in
                    state.entries.update(key) { entry in
                        for index in run.indices {
                            Self.apply(events[index], to: &entry.view, keys: entry.keys, skipDuplicates: false)
                        }
                    }
                    let room = min(run.count, shardPendingLimit - state.pendingCount)
                    guard room > 0 else { return }
                    // Straight into the visitor's list, found once: a list built first and then appended copied each
                    // event twice.
                    let firstSequence = state.nextSequence
                    state.pending[key, default: []].append(
                        contentsOf: (0..<room).lazy.map { offset in
                            Pending(
                                event: events[run.startIndex + offset], sequence: firstSequence + UInt64(offset),
                                submittedAt: now)
                        })
                    state.nextSequence += UInt64(room)
                    state.pendingCount += room
                }
            }
            start = end
        }
    }

    /// The store has these events now; they leave the overlay after a short grace.
    public func confirmStored(_ events: [TrackEvent]) {
        let now = self.now()
        // A visitor has a handful of events in a batch and in the overlay: lists compared in place cost less
        // than hashing every id.
        var stored: [String: [String]] = [:]
        // Fields read in place: a batch holds thousands of events, and a copy of one retains all it holds.
        for index in events.indices {
            guard let key = Self.key(userId: events[index].userId, profileId: events[index].profileId) else {
                continue
            }
            stored[key, default: []].append(events[index].eventId)
        }
        // A second's batch names about every active visitor, and the event loops take these locks for every page:
        // a few visitors per hold, so that no page waits for the whole batch.
        var visitorsByShard = [[(key: String, eventIds: [String])]](repeating: [], count: shards.count)
        for (key, eventIds) in stored {
            visitorsByShard[shardIndex(key)].append((key, eventIds))
        }
        for (shard, visitors) in zip(shards, visitorsByShard) {
            for start in stride(from: 0, to: visitors.count, by: Self.visitorsPerLock) {
                shard.state.withLock { state in
                    for (key, eventIds) in visitors[start..<min(start + Self.visitorsPerLock, visitors.count)] {
                        state.pending[key]?.markStored(eventIds, at: now)
                    }
                }
            }
        }
        // Pruning walks every pending list, so at most once a second rather than per batch.
        let due = lastPrune.withLock { lastPrune in
            guard lastPrune.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            lastPrune = now
            return true
        }
        if due { prune(now: now) }
    }

    /// How many visitors' overlays one hold of the lock updates.
    static let visitorsPerLock = 64

    /// Forgets what is cached for these people (after writes that change identities or attributes).
    public func invalidate(_ events: [TrackEvent]) {
        for event in events {
            for key in [
                Self.key(userId: event.userId, profileId: nil), Self.key(userId: nil, profileId: event.profileId),
                Self.key(userId: event.anotherUserId, profileId: nil),
            ].compactMap({ $0 }) {
                shard(key).state.withLock { $0.entries.remove(key) }
            }
        }
    }

    /// `staleHits`: views served past their life (counted apart from `hits`); `refreshesDeferred`: those of them
    /// that started no background read, because `refreshLimit` reads were in flight.
    public var statistics: (entries: Int, hits: Int, misses: Int, staleHits: Int, refreshesDeferred: Int, pending: Int)
    {
        shards.reduce(into: (entries: 0, hits: 0, misses: 0, staleHits: 0, refreshesDeferred: 0, pending: 0)) {
            total, shard in
            shard.state.withLock { state in
                total.entries += state.entries.count
                total.hits += state.hits
                total.misses += state.misses
                total.staleHits += state.staleHits
                total.refreshesDeferred += state.refreshesDeferred
                total.pending += state.pendingCount
            }
        }
    }

    private func prune(now: ContinuousClock.Instant) {
        let grace = overlayGrace
        for shard in shards {
            let keys = shard.state.withLock { Array($0.pending.keys) }
            for start in stride(from: 0, to: keys.count, by: Self.visitorsPerLock) {
                shard.state.withLock { state in
                    for key in keys[start..<min(start + Self.visitorsPerLock, keys.count)] {
                        guard var list = state.pending.removeValue(forKey: key) else { continue }
                        let before = list.count
                        list.removeExpired(now: now, grace: grace)
                        state.pendingCount -= before - list.count
                        if !list.isEmpty { state.pending[key] = list }
                    }
                }
            }
        }
    }

    static func apply(_ event: TrackEvent, to view: inout ProfileView, keys: Set<EventKey>, skipDuplicates: Bool) {
        // Read from the event's data once: each field is a lookup there.
        let exposure = event.exposure
        if let exposure {
            let record = ExposureRecord(
                arm: exposure.arm, timestamp: event.timestamp, sessionId: event.sessionId, control: exposure.control)
            if skipDuplicates, view.holds(record, selector: exposure.selector) { return }
        } else if skipDuplicates,
            keys.contains(where: {
                $0.event == event.name && view.eventSummaries[$0]?.contains(event.timestamp) == true
            })
        {
            return
        }
        view.record(event: event.name, data: event.data, timestamp: event.timestamp, keys: keys)
        if let exposure {
            view.record(exposure: exposure, timestamp: event.timestamp, sessionId: event.sessionId)
        }
        for (name, value) in event.userAttributes { view.userAttributes[name] = value }
        for (name, value) in event.accountAttributes { view.accountAttributes[name] = value }
    }
}

extension [ProfileCache.Pending] {
    /// Marks the events with these ids as stored at `now`, in place. The reporter stores events in the order they
    /// were recorded, nearly always: each id is looked for where the last one was found, and only one out of that
    /// order costs a search of the list. This runs under the cache's lock on the reporter's low-priority thread.
    ///
    /// Elements are read through the buffer, in place: read through the array, each look at one copied the whole
    /// pending event (retaining every string it holds) on that thread.
    fileprivate mutating func markStored(_ eventIds: [String], at now: ContinuousClock.Instant) {
        withUnsafeMutableBufferPointer { list in
            var cursor = 0
            while cursor < list.count, list[cursor].storedAt != nil { cursor += 1 }
            guard cursor < list.count else { return }
            for id in eventIds {
                if cursor < list.count, list[cursor].storedAt == nil, list[cursor].event.eventId == id {
                    list[cursor].storedAt = now
                } else {
                    var found = 0
                    while found < list.count, list[found].storedAt != nil || list[found].event.eventId != id {
                        found += 1
                    }
                    guard found < list.count else { continue }
                    list[found].storedAt = now
                    cursor = found
                }
                while cursor < list.count, list[cursor].storedAt != nil { cursor += 1 }
            }
        }
    }

    /// Drops events stored more than `grace` ago, and unconfirmed ones after an hour; the rest keep their order.
    fileprivate mutating func removeExpired(now: ContinuousClock.Instant, grace: Duration) {
        var kept = 0
        withUnsafeMutableBufferPointer { list in
            for index in 0..<list.count {
                let expired =
                    list[index].storedAt.map { now - $0 >= grace } ?? (now - list[index].submittedAt >= .seconds(3600))
                guard !expired else { continue }
                if kept != index { list.swapAt(kept, index) }
                kept += 1
            }
        }
        removeLast(count - kept)
    }
}

extension Duration {
    /// Whole milliseconds.
    fileprivate var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
