public import Foundation

/// The whole of proxy.conf, validated.
///
/// ```swift
/// let config = try ConfigLoader.load(path: "proxy.conf")
/// config.optimizations.count
/// ```
public struct VeneerConfig: Sendable {
    /// The file it came from; relative paths (templates, payload files) resolve against its folder.
    public var file: String
    public var server: ServerSettings
    public var origin: OriginSettings
    public var project: ProjectSettings
    public var visitor: VisitorSettings
    public var decision: DecisionSettings
    public var store: StoreSettings
    public var events: EventSettings
    public var redirects: RedirectSettings
    public var apiKeys: [APIKey]
    public var routes: [Route]
    public var segments: [Segment]
    public var optimizations: [Optimization]
    /// Compiled templates by file name (as written in proxy.conf, relative to `templateDirectory`).
    public var templates: [String: Template]
    public var templateDirectory: String

    public init(
        file: String = "proxy.conf", server: ServerSettings = .init(), origin: OriginSettings = .init(),
        project: ProjectSettings = .init(), visitor: VisitorSettings = .init(), decision: DecisionSettings = .init(),
        store: StoreSettings = .init(), events: EventSettings = .init(), redirects: RedirectSettings = .init(),
        apiKeys: [APIKey] = [], routes: [Route] = [], segments: [Segment] = [], optimizations: [Optimization] = [],
        templates: [String: Template] = [:], templateDirectory: String = "templates"
    ) {
        self.file = file
        self.server = server
        self.origin = origin
        self.project = project
        self.visitor = visitor
        self.decision = decision
        self.store = store
        self.events = events
        self.redirects = redirects
        self.apiKeys = apiKeys
        self.routes = routes
        self.segments = segments
        self.optimizations = optimizations
        self.templates = templates
        self.templateDirectory = templateDirectory
    }
}

public struct ServerSettings: Sendable, Hashable {
    public var listen: HostAndPort = HostAndPort(host: "127.0.0.1", port: 8080)
    public var apiListen: HostAndPort = HostAndPort(host: "127.0.0.1", port: 8081)
    public var debugHeader = false
    /// A client connection with no request in flight for this long is closed: kept-alive connections left
    /// open, and request heads that never finish. So is one whose client reads nothing of its answer for
    /// this long.
    public var idleTimeout: Duration = .seconds(60)
    public init() {}
}

public struct HostAndPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

public struct OriginSettings: Sendable, Hashable {
    /// `file:demo/site` (resolved to an absolute folder at load), `http://…` or `https://…`.
    public var url = "file:demo/site"
    public var connectTimeout: Duration = .seconds(2)
    public var timeout: Duration = .seconds(10)
    public var maxHTMLBytes = 8 * 1024 * 1024
    public var preserveHost = false
    /// Idle keep-alive connections kept per event loop.
    public var maxIdleConnectionsPerLoop = 64
    /// For an https origin: a PEM file of certificates trusted beside the system's (a private CA, or the
    /// origin's own self-signed certificate); absolute after load, empty for the system's trust roots only.
    public var tlsCAFile = ""
    /// For an https origin: the name sent as SNI and checked against the certificate, when it is not the
    /// URL's host (an origin reached by IP address whose certificate names the site). Empty: the URL's host.
    public var tlsServerName = ""
    public init() {}
}

public struct ProjectSettings: Sendable, Hashable {
    public var org = "demo-org"
    public var project = "demo-project"
    public var sourceId = "1"
    public var timeZone: TimeZone = TimeZone(identifier: "UTC")!
    public init() {}
}

public struct VisitorSettings: Sendable, Hashable {
    public enum BotPolicy: String, Sendable, Hashable { case original, personalize }
    public var profileCookie = "vnr_pid"
    public var sessionCookie = "vnr_sid"
    public var sessionIdle: Duration = .seconds(30 * 60)
    public var userIdHeader = ""
    public var userIdCookie = ""
    public var countryHeader = ""
    public var secureCookies = false
    public var bots: BotPolicy = .original
    public var autotrack = true
    public init() {}
}

public struct DecisionSettings: Sendable, Hashable {
    public var budget: Duration = .milliseconds(20)
    public init() {}
}

public struct StoreSettings: Sendable, Hashable {
    public var url = "sqlite:data/veneer.sqlite"
    public init() {}
}

public struct EventSettings: Sendable, Hashable {
    /// Events the journal already holds wait at most `batchInterval` for the store, and a write starts early
    /// when `batchSize` of them wait. Large and seldom: the store's person-keyed indexes cost a page per
    /// visitor per commit, so a commit every few seconds of what came in is several times cheaper per event
    /// than many small ones (and each commit's burst of work delays the pages served meanwhile), while cached
    /// views already see the proxy's own events at once.
    public var batchSize = 20000
    public var batchInterval: Duration = .seconds(3)
    public var queueLimit = 100_000
    public var spoolDirectory = "data/spool"
    public var forwardURL = ""
    /// Resolved: `env:NAME` is read from the environment at load.
    public var forwardKey = ""
    public init() {}
}

public struct RedirectSettings: Sendable, Hashable {
    public var allowHosts: [String] = []
    public init() {}
}

public struct APIKey: Sendable, Hashable {
    public var id: String
    /// Resolved: `env:NAME` is read from the environment at load.
    public var secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }
}

/// Which optimizations may apply on which paths.
public struct Route: Sendable, Hashable {
    public enum Match: Sendable, Hashable {
        /// A path prefix: `/` matches everything, `/shop` matches `/shop` and `/shop/…`.
        case prefix(String)
        /// A glob: `*` matches within one segment, `**` across segments.
        case pattern(String)
    }

    public var match: Match
    /// nil = every optimization; otherwise those named or in the groups (either).
    public var names: [String]?
    public var groups: [String]?

    public init(match: Match, names: [String]? = nil, groups: [String]? = nil) {
        self.match = match
        self.names = names
        self.groups = groups
    }
}
