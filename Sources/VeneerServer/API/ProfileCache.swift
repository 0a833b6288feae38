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
    }

    private struct Pending {
        var event: TrackEvent
        var submittedAt: ContinuousClock.Instant
        /// When the store confirmed it; kept a little longer so a read that began before is still covered.
        var storedAt: ContinuousClock.Instant?
    }

    private struct State {
        var entries = LeastRecentlyUsed<String, Entry>()
        var pending: [String: [Pending]] = [:]
        var pendingCount = 0
        var lastPrune: ContinuousClock.Instant?
        var hits = 0
        var misses = 0
    }

    private let store: any Store
    /// Told how long each lookup took and whether the cache answered it.
    private let observe: (@Sendable (_ fromCache: Bool, _ duration: Duration) -> Void)?
    private let capacity: Int
    private let timeToLive: Duration
    private let state = Mutex(State())
    /// How long a stored event stays in the overlay after the store confirmed it.
    private let overlayGrace: Duration = .seconds(5)
    private let pendingLimit = 200_000

    public init(
        store: any Store, capacity: Int = 50_000, timeToLive: Duration = .seconds(5),
        observe: (@Sendable (_ fromCache: Bool, _ duration: Duration) -> Void)? = nil
    ) {
        self.store = store
        self.observe = observe
        self.capacity = max(1, capacity)
        self.timeToLive = timeToLive
    }

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
        if let cached = cachedView(key: key, keys: keys) { return cached }

        let readStarted = ContinuousClock.now
        var view = try await store.profileView(for: identification, keys: keys)
        defer { observe?(false, ContinuousClock.now - readStarted) }
        return state.withLock { state in
            // Own events the store may not have yet: unconfirmed ones, and ones confirmed after this read began.
            for pending in state.pending[key] ?? [] where pending.storedAt.map({ $0 >= readStarted }) ?? true {
                Self.apply(pending.event, to: &view, keys: keys, skipDuplicates: true)
            }
            state.entries.set(key, Entry(view: view, keys: keys, loadedAt: readStarted), capacity: capacity)
            return view
        }
    }

    /// The view when the cache holds a fresh one (or the visitor has no identity), without waiting: what an
    /// event loop asks first, so that only a miss costs a trip to the store. A miss is counted by the `view`
    /// call that follows it.
    public func cachedView(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) -> ProfileView? {
        guard let key = Self.key(userId: identification.userId, profileId: identification.profileId) else {
            return ProfileView()
        }
        return cachedView(key: key, keys: keys, countingMiss: false)
    }

    private func cachedView(key: String, keys: Set<EventKey>, countingMiss: Bool = true) -> ProfileView? {
        let now = ContinuousClock.now
        let cached: ProfileView? = state.withLock { state in
            if let entry = state.entries[key], entry.keys == keys, now - entry.loadedAt < timeToLive {
                state.hits += 1
                return entry.view
            }
            if countingMiss { state.misses += 1 }
            return nil
        }
        if cached != nil { observe?(true, ContinuousClock.now - now) }
        return cached
    }

    /// The proxy's own events, not yet stored: applied to cached views now and to views read later.
    public func record(_ events: [TrackEvent], keys: Set<EventKey>) {
        let now = ContinuousClock.now
        state.withLock { state in
            for event in events {
                guard let key = Self.key(userId: event.userId, profileId: event.profileId) else { continue }
                if var entry = state.entries.peek(key) {
                    Self.apply(event, to: &entry.view, keys: entry.keys, skipDuplicates: false)
                    state.entries.replace(key, entry)
                }
                if state.pendingCount < pendingLimit {
                    state.pending[key, default: []].append(Pending(event: event, submittedAt: now))
                    state.pendingCount += 1
                }
            }
        }
    }

    /// The store has these events now; they leave the overlay after a short grace.
    public func confirmStored(_ events: [TrackEvent]) {
        let now = ContinuousClock.now
        var stored: [String: Set<String>] = [:]
        for event in events {
            guard let key = Self.key(userId: event.userId, profileId: event.profileId) else { continue }
            stored[key, default: []].insert(event.eventId)
        }
        state.withLock { state in
            for (key, eventIds) in stored where state.pending[key] != nil {
                // In place: copying a busy visitor's list per event made a batch quadratic (seen in bench-proxy).
                for index in state.pending[key]!.indices
                where eventIds.contains(state.pending[key]![index].event.eventId) {
                    state.pending[key]![index].storedAt = now
                }
            }
            // Pruning walks every pending list, so at most once a second rather than per batch.
            if state.lastPrune.map({ now - $0 >= .seconds(1) }) ?? true {
                prune(&state, now: now)
                state.lastPrune = now
            }
        }
    }

    /// Forgets what is cached for these people (after writes that change identities or attributes).
    public func invalidate(_ events: [TrackEvent]) {
        state.withLock { state in
            for event in events {
                for key in [
                    Self.key(userId: event.userId, profileId: nil), Self.key(userId: nil, profileId: event.profileId),
                    Self.key(userId: event.anotherUserId, profileId: nil),
                ].compactMap({ $0 }) {
                    state.entries.remove(key)
                }
            }
        }
    }

    public var statistics: (entries: Int, hits: Int, misses: Int, pending: Int) {
        state.withLock { ($0.entries.count, $0.hits, $0.misses, $0.pendingCount) }
    }

    private func prune(_ state: inout State, now: ContinuousClock.Instant) {
        let grace = overlayGrace
        var removed = 0
        for (key, list) in state.pending {
            let kept = list.filter { pending in
                if let storedAt = pending.storedAt { return now - storedAt < grace }
                return now - pending.submittedAt < .seconds(3600)
            }
            removed += list.count - kept.count
            state.pending[key] = kept.isEmpty ? nil : kept
        }
        state.pendingCount -= removed
    }

    static func apply(_ event: TrackEvent, to view: inout ProfileView, keys: Set<EventKey>, skipDuplicates: Bool) {
        if let exposure = event.exposure {
            let record = ExposureRecord(
                arm: exposure.arm, timestamp: event.timestamp, sessionId: event.sessionId, control: exposure.control)
            if skipDuplicates, view.exposures[exposure.selector]?.contains(record) == true { return }
        } else if skipDuplicates,
            keys.contains(where: {
                $0.event == event.name && view.eventSummaries[$0]?.timestamps.contains(event.timestamp) == true
            })
        {
            return
        }
        view.record(event: event.name, data: event.data, timestamp: event.timestamp, keys: keys)
        if let exposure = event.exposure {
            view.record(exposure: exposure, timestamp: event.timestamp, sessionId: event.sessionId)
        }
        for (name, value) in event.userAttributes { view.userAttributes[name] = value }
        for (name, value) in event.accountAttributes { view.accountAttributes[name] = value }
    }
}
