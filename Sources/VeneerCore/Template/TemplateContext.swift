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
    /// `payload.*`. With `init(user:account:decision:visitor:request:)` it is the decision's payload, built
    /// only if read here; template paths read just the values they name.
    public var payload: JSONValue {
        get { decisionPayload?.json ?? storedPayload }
        set {
            storedPayload = newValue
            decisionPayload = nil
        }
    }
    private var storedPayload: JSONValue
    /// The payload as `choose` left it, when the context was made from a decision.
    private(set) var decisionPayload: DecisionPayload?
    /// `visitor.*`: device, profile_id, session_id, new, returning (see `visitorFacts(for:)`).
    public var visitor: [String: JSONValue]
    /// `request.*`: path, url, query.NAME, referrer.
    public var request: PageFacts

    /// The value `payload.<components>` names, building only that value when the payload is a decision's.
    func payloadValue(at components: [TemplatePath.Component]) -> JSONValue? {
        if let decisionPayload { return decisionPayload.value(at: components) }
        return TemplatePath.follow(components, from: storedPayload)
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

extension TemplateContext {
    public init(
        user: [String: JSONValue] = [:], account: [String: JSONValue] = [:], payload: JSONValue = .null,
        visitor: [String: JSONValue] = [:], request: PageFacts = PageFacts()
    ) {
        self.init(
            user: user, account: account, storedPayload: payload, decisionPayload: nil, visitor: visitor,
            request: request)
    }

    /// A context whose `payload.*` is `decision`'s payload (null when it has none), read in place: a
    /// template that names `payload.title` builds that string, not the payload's dictionaries.
    public init(
        user: [String: JSONValue] = [:], account: [String: JSONValue] = [:], decision: Decision,
        visitor: [String: JSONValue] = [:], request: PageFacts = PageFacts()
    ) {
        // The compiler's memberwise initializer builds the context in place; assigning the fields one by one
        // was compiled into a copy and a destroy of the whole context.
        self.init(
            user: user, account: account, storedPayload: .null, decisionPayload: decision.preparedPayload,
            visitor: visitor, request: request)
    }
}
