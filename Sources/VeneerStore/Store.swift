import Logging
public import VeneerCore

/// Where persons, events, consents, exposures and sticky assignments live. Two implementations share one
/// behaviour (and one conformance suite): SQLite in a local file, and PostgreSQL for several proxies.
///
/// ```swift
/// let store = try await StoreFactory.open(url: "sqlite:data/veneer.sqlite", logger: logger)
/// let added = try await store.append([event])
/// let view = try await store.profileView(for: .init(profileId: "p1"), keys: config.eventKeys)
/// ```
public protocol Store: Sendable {
    /// What the engine reads for one person: attributes, one summary per key, exposures and sticky arms, with
    /// the person it was read for. An unknown person has an empty view. With `since` (ms), only the events and
    /// exposures at or after that time are read (attributes and sticky arms whole): the tail that a cache
    /// lays over the view it read before (`ProfileView.replaceTail(from:with:)`).
    func profileRead(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>, since: Int64?
    ) async throws
        -> ProfileRead
    /// Stores each new eventId once and returns how many were new. Identities are linked and merged
    /// (identify, group, alias), attributes merged (the later timestamp wins); exposures also update the
    /// exposure history and sticky assignments. Events of a person who rejected consent are dropped.
    func append(_ events: [TrackEvent]) async throws -> Int
    /// Stores a consent; `reject` stops event storage for the person until a later `accept`.
    func recordConsent(_ consent: Consent) async throws
    /// Everything known of the person with this user id or profile id (for `veneer profile`).
    func person(_ id: String) async throws -> PersonRecord?
    func close() async throws
}

extension Store {
    /// The whole view of one person (see `profileRead`).
    public func profileView(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) async throws
        -> ProfileView
    {
        try await profileRead(for: identification, keys: keys, since: nil).view
    }
}
