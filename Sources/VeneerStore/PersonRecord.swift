public import VeneerCore

/// Everything the store knows of one person, as `veneer profile` prints it.
///
/// ```swift
/// if let person = try await store.person("u@x.com") { print(person.userIds, person.optedOut) }
/// ```
public struct PersonRecord: Sendable, Hashable {
    public struct ConsentState: Sendable, Hashable {
        /// Empty for a consent sent without a category.
        public var category: String
        public var action: Consent.Action
        public var timestamp: Int64
        public var validUntil: String?
        /// `validUntil` read as an instant (milliseconds); nil when it does not expire.
        public var expiresAt: Int64?
    }

    public var personId: String
    public var profileIds: [String]
    public var userIds: [String]
    public var accountIds: [String]
    public var userAttributes: [String: JSONValue]
    public var accountAttributes: [String: JSONValue]
    public var consents: [ConsentState]
    /// A reject holds now: events of this person are not stored.
    public var optedOut: Bool
    /// When the reject that opts them out ends; nil when it never does (or they are not opted out).
    public var optedOutUntil: Int64?
    public var eventCount: Int
    /// The most recent events, newest first.
    public var recentEvents: [TrackEvent]
    public var exposures: [String: [ExposureRecord]]
    public var assignments: [String: StickyAssignment]
}
