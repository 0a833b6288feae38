/// Who is asking and for what: the choose-api body, or what the proxy knows of a page request.
///
/// ```swift
/// let request = DecisionRequest(identification: .init(sourceId: "1", profileId: "p1"), device: .mobile)
/// ```
public struct DecisionRequest: Sendable, Hashable {
    public struct Identification: Sendable, Hashable {
        public var sourceId: String?
        public var profileId: String?
        public var userId: String?

        public init(sourceId: String? = nil, profileId: String? = nil, userId: String? = nil) {
            self.sourceId = sourceId
            self.profileId = profileId
            self.userId = userId
        }

        /// Intempt's rule: the user id when there is one, else `sourceId_profileId`.
        public var assignmentKey: String? {
            if let userId, !userId.isEmpty { return userId }
            guard let profileId, !profileId.isEmpty else { return nil }
            return "\(sourceId ?? "")_\(profileId)"
        }
    }

    public var identification: Identification
    /// nil = every optimization; `[]` = none. With `groups` too, either matches.
    public var names: [String]?
    public var groups: [String]?
    public var device: Device
    public var sessionId: String?
    public var optimizationType: Optimization.Kind?
    /// Facts of the page request that request audiences read.
    public var page: PageFacts
    /// Whether the session started with this request (for `visitor.new`).
    public var isNewVisitor: Bool

    public init(
        identification: Identification, names: [String]? = nil, groups: [String]? = nil, device: Device = .all,
        sessionId: String? = nil, optimizationType: Optimization.Kind? = nil, page: PageFacts = PageFacts(),
        isNewVisitor: Bool = false
    ) {
        self.identification = identification
        self.names = names
        self.groups = groups
        self.device = device
        self.sessionId = sessionId
        self.optimizationType = optimizationType
        self.page = page
        self.isNewVisitor = isNewVisitor
    }
}

/// The parts of an HTTP request that audiences and templates may read.
public struct PageFacts: Sendable, Hashable {
    /// The path without the query, e.g. `/products/1`.
    public var path: String
    /// The full URL as the visitor asked for it, e.g. `http://shop.example/products/1?utm_source=x`.
    public var url: String
    public var query: [String: String]
    public var referrer: String?
    /// Lower-cased header names.
    public var headers: [String: String]
    public var cookies: [String: String]
    /// The first language of `Accept-Language`, lower-cased (`en-us`).
    public var language: String?
    public var country: String?

    public init(
        path: String = "/", url: String = "", query: [String: String] = [:], referrer: String? = nil,
        headers: [String: String] = [:], cookies: [String: String] = [:], language: String? = nil,
        country: String? = nil
    ) {
        self.path = path
        self.url = url
        self.query = query
        self.referrer = referrer
        self.headers = headers
        self.cookies = cookies
        self.language = language
        self.country = country
    }
}
