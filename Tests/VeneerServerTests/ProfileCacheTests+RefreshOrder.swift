import Synchronization
import Testing
import VeneerCore
import VeneerServer
import VeneerStore

extension ProfileCacheTests {
    /// The real store, whose answer to the next tail read is held back after it was read: what a slow reader thread
    /// does to a refresh while a later read of the same visitor finishes first.
    final class HeldBackTailStore: Store {
        private let store: any Store
        private let holding = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let holdNext = Mutex(false)
        let tailReadHeld = Mutex(false)

        init(_ store: any Store) { self.store = store }

        func holdTheNextTailRead() { holdNext.withLock { $0 = true } }

        func release() { holding.withLock { $0.take() }?.resume() }

        func profileRead(
            for identification: DecisionRequest.Identification, keys: Set<EventKey>, since: Int64?
        ) async throws -> ProfileRead {
            let read = try await store.profileRead(for: identification, keys: keys, since: since)
            let hold =
                since != nil
                && holdNext.withLock { hold in
                    defer { hold = false }
                    return hold
                }
            if hold {
                await withCheckedContinuation { continuation in
                    holding.withLock { $0 = continuation }
                    tailReadHeld.withLock { $0 = true }
                }
            }
            return read
        }

        func append(_ events: [TrackEvent]) async throws -> Int { try await store.append(events) }
        func recordConsent(_ consent: Consent) async throws { try await store.recordConsent(consent) }
        func person(_ id: String) async throws -> PersonRecord? { try await store.person(id) }
        func close() async throws { try await store.close() }
    }

    /// A refresh whose tail was read before a later read of the same visitor was laid over the view does not
    /// lay its older tail over it: what another writer stored in between stays in the view.
    @Test func anOlderTailIsNotLaidOverALaterRead() async throws {
        let store = HeldBackTailStore(try await Self.openStore())
        let (cache, clock, epoch) = Self.cacheOnManualClocks(store: store)
        let keys: Set<EventKey> = [EventKey(event: "View Page")]
        _ = try await store.append([Self.pageView("first", at: epoch())])
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 1)

        clock.advance(by: .seconds(6))
        store.holdTheNextTailRead()
        let earlier = Task { try await cache.view(for: Self.visitor, keys: keys) }
        while !store.tailReadHeld.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        // The earlier refresh has read its tail (one page view). Another writer stores a second, and a later read
        // of the same visitor, past the view's life too, reads and lays it.
        clock.advance(by: .seconds(1))
        _ = try await store.append([Self.pageView("theirs", at: epoch())])
        #expect(Self.pageViews(try await cache.view(for: Self.visitor, keys: keys)) == 2)

        store.release()
        #expect(Self.pageViews(try await earlier.value) == 2, "the earlier refresh answers with the view as it is")
        let cached = try #require(cache.cachedView(for: Self.visitor, keys: keys))
        #expect(Self.pageViews(cached) == 2, "and leaves it so")
        try await store.close()
    }
}
