import VeneerCore
import VeneerHTML

// The proxy's seams, met by the real parts: the store-backed cache, the reporter and the HTML rewriter.

extension ProfileCache: ProfileSource {
    func profileView(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) async throws
        -> ProfileView
    {
        try await view(for: identification, keys: keys)
    }

    func cachedProfileView(for identification: DecisionRequest.Identification, keys: Set<EventKey>) -> ProfileView? {
        cachedView(for: identification, keys: keys)
    }
}

extension Reporter: EventSink {}

extension PageRewriter: PageRewriting {}
