import AsyncHTTPClient
import Foundation
import Hummingbird
public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals
public import VeneerCore
import VeneerHTML
import VeneerStore

/// `veneer serve`: the proxy, the API listener, the reporter and the store as one ServiceLifecycle group.
/// SIGTERM or SIGINT drains in-flight requests, then the reporter; SIGHUP or a file change reloads
/// proxy.conf.
///
/// ```swift
/// let application = try VeneerApplication(configPath: "proxy.conf", logger: Logger(label: "veneer"))
/// try await application.run()
/// ```
public struct VeneerApplication: Sendable {
    public let configPath: String
    public let logger: Logger
    let initial: ProxyConfiguration
    /// How long SIGTERM waits for requests in flight.
    public var drainDeadline: Duration = .seconds(10)

    /// Loads and validates the configuration; throws `ConfigErrors` (printable as `veneer check` prints).
    public init(configPath: String, logger: Logger) throws(ConfigErrors) {
        self.configPath = configPath
        self.logger = logger
        switch ConfigReloader.load(path: configPath) {
        case .success(let configuration): self.initial = configuration
        case .failure(let errors): throw errors
        }
    }

    public var config: VeneerConfig { initial.config }

    public func run() async throws {
        let config = initial.config
        let holder = ProxyConfigurationHolder(initial)
        let metrics = ProxyMetrics()
        let store = try await StoreFactory.open(url: config.store.url, logger: logger)
        let cache = ProfileCache(store: store) { fromCache, duration in
            metrics.profileLookup(fromCache: fromCache, duration: duration)
        }
        let reporter = Reporter(
            settings: config.events, store: store, cache: cache, eventKeys: { holder.current.eventKeys },
            logger: logger)
        let threadPool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        threadPool.start()
        let failOpenLog = FailOpenLog()
        let rewriter = PageRewriter(cacheCapacity: 256)
        let services = ProxyServices(
            profiles: cache, events: reporter, rewriter: rewriter, metrics: metrics,
            threadPool: threadPool, logger: logger, failOpenLog: failOpenLog)
        let group = MultiThreadedEventLoopGroup.singleton
        let server = ProxyServer(holder: holder, services: services, group: group)
        let readiness = ReadinessState()

        let router = APIRouter.build(
            config: config, store: store, reporter: reporter, cache: cache, engine: { holder.current.engine })
        OperationsRoutes.add(to: router, metrics: metrics, readiness: readiness) {
            let statistics = cache.statistics
            metrics.cache(
                hits: Int64(statistics.hits), misses: Int64(statistics.misses),
                staleHits: Int64(statistics.staleHits), refreshesDeferred: Int64(statistics.refreshesDeferred))
            metrics.reporter(queued: reporter.queued, statistics: reporter.statistics)
            metrics.pageParses(rewriter.cacheStatistics)
        }
        let api = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(config.server.apiListen.host, port: config.server.apiListen.port),
                serverName: "veneer"),
            logger: logger)
        let proxy = ProxyService(
            server: server, host: config.server.listen.host, port: config.server.listen.port, readiness: readiness,
            drainDeadline: drainDeadline)
        let reloader = ConfigReloader(
            path: configPath, holder: holder, metrics: metrics, failOpenLog: failOpenLog, logger: logger,
            onReload: { configuration in
                if configuration.origin != holder.current.origin { _ = server.pools.closeIdleConnections() }
            })
        // Shut down in reverse order: stop reloading, drain the proxy, stop the API, then drain the reporter.
        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: reporter),
                    .init(service: api),
                    .init(service: proxy),
                    .init(service: reloader),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "veneer serving",
            metadata: [
                "proxy": "\(config.server.listen)", "api": "\(config.server.apiListen)", "origin": "\(initial.origin)",
            ])
        do {
            try await serviceGroup.run()
        } catch {
            try? await store.close()
            try? await threadPool.shutdownGracefully()
            throw error
        }
        try? await store.close()
        try? await threadPool.shutdownGracefully()
    }
}
