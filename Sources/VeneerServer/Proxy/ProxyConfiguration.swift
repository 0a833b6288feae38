import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import VeneerCore

/// The configuration in force and everything compiled from it. Replaced whole on reload; a request keeps the
/// snapshot it started with.
final class ProxyConfiguration: Sendable {
    let config: VeneerConfig
    let engine: Engine
    let origin: OriginTarget
    /// TLS for an https origin, set up once per configuration (loading trust roots is not per connection).
    let originTLS: OriginTLS?
    let staticOrigin: StaticFileOrigin?
    let routes: RouteTable
    /// The event summaries a profile view must hold: computed once, with the engine.
    var eventKeys: Set<EventKey> { engine.eventKeys }
    let connectTimeout: TimeAmount
    let originTimeout: TimeAmount
    let decisionBudget: TimeAmount
    /// `server.idle_timeout`: how long a client connection may wait with no request in flight.
    let idleTimeout: TimeAmount
    /// Whether any optimization can serve at all; when none can, routed pages skip the profile lookup.
    let hasServingOptimizations: Bool
    /// Read per request: kept here so the hot path neither copies `config` nor formats strings.
    /// The `Host` sent to an HTTP origin when the client's is not kept.
    let originHostHeader: String
    /// `Host: <originHostHeader>` and CRLF, as the pass-through path writes it into every request.
    let originHostLine: [UInt8]
    /// The pool key of an HTTP origin's connections.
    let originConnectionKey: OriginConnectionKey?
    let preserveHost: Bool
    let debugHeader: Bool

    init(config: VeneerConfig) throws(OriginTargetError) {
        self.config = config
        self.engine = Engine(config: config)
        let folder = Self.folder(of: config.file)
        self.origin = try OriginTarget(url: config.origin.url, relativeTo: folder)
        if case .http(let http) = origin, http.isTLS {
            self.originTLS = try OriginTLS(settings: config.origin, host: http.host)
        } else {
            self.originTLS = nil
        }
        if case .folder(let path) = origin {
            self.staticOrigin = StaticFileOrigin(root: path)
        } else {
            self.staticOrigin = nil
        }
        self.routes = RouteTable(routes: config.routes)
        self.connectTimeout = TimeAmount(config.origin.connectTimeout)
        self.originTimeout = TimeAmount(config.origin.timeout)
        self.decisionBudget = TimeAmount(config.decision.budget)
        self.idleTimeout = TimeAmount(config.server.idleTimeout)
        self.hasServingOptimizations = config.optimizations.contains { $0.isServing }
        if case .http(let http) = origin {
            self.originHostHeader = http.hostHeader
            self.originHostLine = Array("Host: \(http.hostHeader)\r\n".utf8)
            self.originConnectionKey = OriginConnectionKey(host: http.host, port: http.port, isTLS: http.isTLS)
        } else {
            self.originHostHeader = ""
            self.originHostLine = []
            self.originConnectionKey = nil
        }
        self.preserveHost = config.origin.preserveHost
        self.debugHeader = config.server.debugHeader
    }

    /// The arm of a served decision.
    func arm(of decision: Decision) -> Arm? {
        guard let arm = decision.servedArm else { return nil }
        return config.optimizations.first { $0.selector == decision.selector }?.arms.first { $0.name == arm }
    }

    static func folder(of file: String) -> String {
        guard let slash = file.lastIndex(of: "/") else { return "." }
        let folder = String(file[..<slash])
        return folder.isEmpty ? "/" : folder
    }
}

/// Holds the current `ProxyConfiguration`; the reloader swaps it, each request reads it once.
final class ProxyConfigurationHolder: Sendable {
    private let box: NIOLockedValueBox<ProxyConfiguration>

    init(_ configuration: ProxyConfiguration) {
        self.box = NIOLockedValueBox(configuration)
    }

    var current: ProxyConfiguration { box.withLockedValue { $0 } }

    func replace(with configuration: ProxyConfiguration) {
        box.withLockedValue { $0 = configuration }
    }
}
