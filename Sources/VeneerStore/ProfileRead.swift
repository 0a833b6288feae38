public import VeneerCore

/// One read of a person's view from the store, and whom it was read for.
///
/// ```swift
/// let read = try await store.profileRead(for: identification, keys: keys, since: lastRead - 15_000)
/// if read.personId == cachedPersonId { view.replaceTail(from: lastRead - 15_000, with: read.view) }
/// ```
public struct ProfileRead: Sendable {
    /// The whole view, or with `since` only the events and exposures at or after it.
    public var view: ProfileView
    /// The person the identification resolved to; nil when the store knows no one by it. A cache lays a tail
    /// only over a view read for the same person: a merge or a sign-in can move an identification to another.
    public var personId: String?
    /// Where the events and exposures of `view` begin (ms since 1970); nil for a whole view.
    public var since: Int64?

    public init(view: ProfileView, personId: String?, since: Int64?) {
        self.view = view
        self.personId = personId
        self.since = since
    }
}
