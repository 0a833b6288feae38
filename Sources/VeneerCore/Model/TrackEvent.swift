/// One event as Intempt's track endpoint carries it; exposures and page views travel the same way.
///
/// ```swift
/// let view = TrackEvent(eventId: "ev_1", name: "View Page", timestamp: 1_764_000_000_000, profileId: "p1")
/// ```
public struct TrackEvent: Sendable, Hashable {
    public var eventId: String
    public var name: String
    /// The optional `type` of the track group (`track`, `identify`, …); nil when absent.
    public var type: String?
    /// Milliseconds since 1970.
    public var timestamp: Int64
    public var sourceId: String?
    public var profileId: String?
    public var userId: String?
    public var accountId: String?
    /// Alias: a second user id to join with `userId`.
    public var anotherUserId: String?
    public var sessionId: String?
    public var data: [String: JSONValue]
    public var userAttributes: [String: JSONValue]
    public var accountAttributes: [String: JSONValue]

    public init(
        eventId: String, name: String, type: String? = nil, timestamp: Int64, sourceId: String? = nil,
        profileId: String? = nil, userId: String? = nil, accountId: String? = nil, anotherUserId: String? = nil,
        sessionId: String? = nil, data: [String: JSONValue] = [:], userAttributes: [String: JSONValue] = [:],
        accountAttributes: [String: JSONValue] = [:]
    ) {
        self.eventId = eventId
        self.name = name
        self.type = type
        self.timestamp = timestamp
        self.sourceId = sourceId
        self.profileId = profileId
        self.userId = userId
        self.accountId = accountId
        self.anotherUserId = anotherUserId
        self.sessionId = sessionId
        self.data = data
        self.userAttributes = userAttributes
        self.accountAttributes = accountAttributes
    }

    public static let exposureName = "Experience exposure"
    public static let viewPageName = "View Page"
    public static let sessionStartName = "Session start"
    public static let identifyName = "Identify"
}
