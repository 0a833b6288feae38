public import VeneerCore

/// One consent record as `POST /consents/data` carries it.
///
/// ```swift
/// try await store.recordConsent(Consent(action: .reject, timestamp: nowMs, profileId: "p1"))
/// ```
public struct Consent: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case accept
        case reject
    }

    public var action: Action
    /// Milliseconds since 1970 (the wire carries seconds; the API converts).
    public var timestamp: Int64
    public var profileId: String?
    public var userId: String?
    public var sourceId: String?
    /// nil when the client sent none: the consent then covers everything.
    public var category: String?
    /// As sent: `"unlimited"`, an ISO date or an epoch number written as text.
    public var validUntil: String?
    /// The whole body as received, kept for audit.
    public var body: [String: JSONValue]

    public init(
        action: Action, timestamp: Int64, profileId: String? = nil, userId: String? = nil, sourceId: String? = nil,
        category: String? = nil, validUntil: String? = nil, body: [String: JSONValue] = [:]
    ) {
        self.action = action
        self.timestamp = timestamp
        self.profileId = profileId
        self.userId = userId
        self.sourceId = sourceId
        self.category = category
        self.validUntil = validUntil
        self.body = body
    }
}
