import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VeneerCore
import VeneerHTML
import VeneerStore
import VeneerTestSupport

@testable import VeneerServer

/// A real proxy on 127.0.0.1 in front of a real origin, with the real store (SQLite in a temporary folder),
/// profile cache, reporter and rewriter, and a real HTTP client that neither follows redirects nor
/// decompresses.
final class ProxyHarness: Sendable {
    let origin: TestOriginServer
    let server: ProxyServer
    let client: HTTPClient
    let store: any Store
    let reporter: Reporter
    let cache: ProfileCache
    let holder: ProxyConfigurationHolder
    let metrics: ProxyMetrics
    let directory: String
    let reporterTask: Task<Void, any Error>
    let threadPool: NIOThreadPool

    var baseURL: String { "http://127.0.0.1:\(server.localAddress!.port!)" }
    var port: Int { server.localAddress!.port! }

    private init(
        origin: TestOriginServer, server: ProxyServer, client: HTTPClient, store: any Store, reporter: Reporter,
        cache: ProfileCache, holder: ProxyConfigurationHolder, metrics: ProxyMetrics, directory: String,
        reporterTask: Task<Void, any Error>, threadPool: NIOThreadPool
    ) {
        self.origin = origin
        self.server = server
        self.client = client
        self.store = store
        self.reporter = reporter
        self.cache = cache
        self.holder = holder
        self.metrics = metrics
        self.directory = directory
        self.reporterTask = reporterTask
        self.threadPool = threadPool
    }

    /// Starts everything. `configText` is proxy.conf without `[origin] url` (the harness points it at the test
    /// origin unless `originURL` is given); `files` are written next to it (templates, pages).
    static func start(
        configText: String = "", originURL: String? = nil, pages: [String: TestOriginServer.Page] = [:],
        files: [String: String] = [:], debugHeader: Bool = false, storeURL: String? = nil,
        originTLS: NIOSSLContext? = nil, originSettings: String = "", serverSettings: String = ""
    ) async throws -> ProxyHarness {
        let origin = try await TestOriginServer.start(pages: pages, tls: originTLS)
        let directory = TestScratch.root
            .appendingPathComponent("veneer-proxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, contents) in files {
            let path = directory + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try contents.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let text = """
            [server]
            listen = "127.0.0.1:0"
            api_listen = "127.0.0.1:0"
            debug_header = \(debugHeader)
            \(serverSettings)

            [origin]
            url = "\(originURL ?? origin.url)"
            \(originSettings)

            [store]
            url = "\(storeURL ?? "sqlite:\(directory)/veneer.sqlite")"

            [events]
            spool_dir = "\(directory)/spool"
            batch_interval = "10ms"

            \(configText)
            """
        let config = try ConfigLoader.load(
            text: text, file: directory + "/proxy.conf", baseDirectory: directory, environment: [:])
        let configuration = try ProxyConfiguration(config: config)
        var logger = Logger(label: "proxy-test")
        logger.logLevel = .error
        let store = try await StoreFactory.open(url: config.store.url, logger: logger)
        let cache = ProfileCache(store: store)
        let holder = ProxyConfigurationHolder(configuration)
        let reporter = Reporter(
            settings: config.events, store: store, cache: cache, eventKeys: { holder.current.eventKeys },
            logger: logger)
        let reporterTask = Task { try await reporter.run() }
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let metrics = ProxyMetrics()
        let services = ProxyServices(
            profiles: cache, events: reporter, rewriter: PageRewriter(cacheCapacity: 16), metrics: metrics,
            threadPool: threadPool, logger: logger, failOpenLog: FailOpenLog())
        let server = ProxyServer(holder: holder, services: services, group: MultiThreadedEventLoopGroup.singleton)
        try await server.start(host: "127.0.0.1", port: 0)
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(redirectConfiguration: .disallow, decompression: .disabled))
        return ProxyHarness(
            origin: origin, server: server, client: client, store: store, reporter: reporter, cache: cache,
            holder: holder, metrics: metrics, directory: directory, reporterTask: reporterTask, threadPool: threadPool)
    }

    /// Runs `body` with a started harness and always stops it, whatever `body` throws.
    static func with(
        configText: String = "", originURL: String? = nil, pages: [String: TestOriginServer.Page] = [:],
        files: [String: String] = [:], debugHeader: Bool = false, storeURL: String? = nil,
        originTLS: NIOSSLContext? = nil, originSettings: String = "", serverSettings: String = "",
        _ body: (ProxyHarness) async throws -> Void
    ) async throws {
        let harness = try await start(
            configText: configText, originURL: originURL, pages: pages, files: files, debugHeader: debugHeader,
            storeURL: storeURL, originTLS: originTLS, originSettings: originSettings, serverSettings: serverSettings)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    func stop() async {
        try? await client.shutdown()
        await server.shutdown(deadline: .seconds(2))
        await origin.stop()
        reporter.stop()
        _ = try? await reporterTask.value
        try? await store.close()
        try? await threadPool.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One request through the proxy; the whole body is collected.
    func get(
        _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String, bytes: [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let bytes = Array(buffer.readableBytesView)
        return (Int(response.status.code), response.headers, String(decoding: bytes, as: UTF8.self), bytes)
    }

    /// The proxy's Prometheus text.
    var metricsText: String { metrics.exposition() }

    /// Waits until the reporter has taken `count` events (at most two seconds).
    func waitForSubmitted(_ count: Int) async {
        for _ in 0..<200 where reporter.statistics.submitted < count {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}
