/// What a template can read: the person's attributes, the (rendered) payload, facts about the
/// visitor and the page request.
///
/// ```swift
/// let context = TemplateContext(
///     user: ["first_name": "Ada"], payload: ["discount": 30],
///     visitor: ["device": "mobile", "new": false], request: PageFacts(path: "/pricing"))
/// ```
public struct TemplateContext: Sendable {
    /// `attribute.user.*`
    public var user: [String: JSONValue]
    /// `attribute.account.*`
    public var account: [String: JSONValue]
    /// `payload.*`
    public var payload: JSONValue
    /// `visitor.*`: device, profile_id, session_id, new, returning (see `visitorFacts(for:)`).
    public var visitor: [String: JSONValue]
    /// `request.*`: path, url, query.NAME, referrer.
    public var request: PageFacts

    public init(
        user: [String: JSONValue] = [:], account: [String: JSONValue] = [:], payload: JSONValue = .null,
        visitor: [String: JSONValue] = [:], request: PageFacts = PageFacts()
    ) {
        self.user = user
        self.account = account
        self.payload = payload
        self.visitor = visitor
        self.request = request
    }

    /// The `visitor.*` values for a decision request: `device`, `profile_id`, `user_id`, `session_id` (when
    /// known), `new` and `returning` (booleans, opposite of each other).
    public static func visitorFacts(for request: DecisionRequest) -> [String: JSONValue] {
        var facts: [String: JSONValue] = [
            "device": .string(request.device.rawValue),
            "new": .bool(request.isNewVisitor),
            "returning": .bool(!request.isNewVisitor),
        ]
        if let profileId = request.identification.profileId { facts["profile_id"] = .string(profileId) }
        if let userId = request.identification.userId { facts["user_id"] = .string(userId) }
        if let sessionId = request.sessionId { facts["session_id"] = .string(sessionId) }
        return facts
    }
}
