import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import VeneerCore
import VeneerServer
import VeneerStore
import VeneerTestSupport

/// A real API listener on 127.0.0.1 (an OS-chosen port) over a real SQLite store in a temp folder, with
/// its reporter running; `stop()` ends both.
final class APITestServer: Sendable {
    static let org = "acme"
    static let project = "shop"
    static let sourceId = "1841503112918048768"
    static let keyId = "pub"
    static let secret = "s3cret-value"
    static var apiKey: String { "\(keyId).\(secret)" }

    let config: VeneerConfig
    let store: any Store
    let cache: ProfileCache
    let reporter: Reporter
    let folder: String
    let port: Int
    private let tasks: [Task<Void, any Error>]

    static let logger: Logger = {
        var logger = Logger(label: "veneer.api.tests")
        logger.logLevel = .error
        return logger
    }()

    private init(
        config: VeneerConfig, store: any Store, cache: ProfileCache, reporter: Reporter, folder: String, port: Int,
        tasks: [Task<Void, any Error>]
    ) {
        self.config = config
        self.store = store
        self.cache = cache
        self.reporter = reporter
        self.folder = folder
        self.port = port
        self.tasks = tasks
    }

    /// proxy.conf for the API tests: one experiment, one `once` personalization, one draft.
    static func configText(folder: String, storeURL: String, weights: (Int, Int) = (50, 50)) -> String {
        """
        [origin]
        url = "http://127.0.0.1:9"

        [project]
        org = "\(org)"
        project = "\(project)"
        source_id = "\(sourceId)"

        [store]
        url = "\(storeURL)"

        [events]
        batch_size = 5
        batch_interval = "20ms"
        spool_dir = "\(folder)/spool"

        [[api_key]]
        id = "\(keyId)"
        secret = "\(secret)"

        [[experiment]]
        name = "Checkout CTA"
        selector = "checkout-cta"
        group = "cta"
        audience = "everyone"
        metrics = { primary = "Purchase" }

          [[experiment.variant]]
          name = "grey"
          weight = \(weights.0)
          payload = { color = "grey" }

          [[experiment.variant]]
          name = "green"
          weight = \(weights.1)
          payload = { color = "green" }

        [[personalization]]
        name = "Welcome"
        selector = "welcome"
        group = "banner"
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "first-visit"
          audience = "everyone"
          display = "once"
          payload = { title = "Hello << attribute.user.first_name | default: \\"friend\\" >>" }

        [[experiment]]
        name = "Unfinished"
        selector = "unfinished"
        status = "draft"
        audience = "everyone"
        metrics = { primary = "Purchase" }

          [[experiment.variant]]
          name = "only"
          weight = 100
          payload = { x = 1 }
        """
    }

    static func start(
        storeURL: String? = nil, folder: String? = nil, weights: (Int, Int) = (50, 50)
    ) async throws
        -> APITestServer
    {
        let folder = folder ?? TestScratch.root.appendingPathComponent("veneer-api-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let storeURL = storeURL ?? "sqlite:\(folder)/veneer.sqlite"
        let config = try ConfigLoader.load(
            text: configText(folder: folder, storeURL: storeURL, weights: weights), file: "\(folder)/proxy.conf",
            baseDirectory: folder,
            environment: [:])
        let store = try await StoreFactory.open(url: storeURL, logger: logger)
        let cache = ProfileCache(store: store)
        let keys = config.eventKeys
        let reporter = Reporter(
            settings: config.events, store: store, cache: cache, eventKeys: { keys }, logger: logger)
        let engine = Engine(config: config)
        let router = APIRouter.build(config: config, store: store, reporter: reporter, cache: cache, engine: { engine })
        let portBox = Mutex<Int?>(nil)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portBox.withLock { $0 = channel.localAddress?.port } }, logger: logger)
        let serverTask = Task { try await app.run() }
        let reporterTask = Task { try await reporter.run() }
        var port: Int?
        for _ in 0..<500 {
            port = portBox.withLock { $0 }
            if port != nil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard let port else { throw APIError(.internalServerError, "the test API listener did not start") }
        return APITestServer(
            config: config, store: store, cache: cache, reporter: reporter, folder: folder, port: port,
            tasks: [serverTask, reporterTask])
    }

    func stop() async throws {
        reporter.stop()
        _ = try? await tasks[1].value
        tasks[0].cancel()
        _ = try? await tasks[0].value
        try await store.close()
    }

    var base: String { "http://127.0.0.1:\(port)/v1/\(Self.org)/projects/\(Self.project)" }

    struct Reply {
        var status: Int
        var body: String
        var headers: HTTPHeaders

        var json: JSONValue? { try? JSONValue(jsonData: Data(body.utf8)) }
        var errorMessage: String? { json?["errors"]?.arrayValue?.first?["message"]?.stringValue }
    }

    enum Auth {
        case basic
        case query
        case none
        case custom(String)
    }

    /// POSTs `body` to `path` (below `/v1/{org}/projects/{project}` unless it starts with `http`).
    func post(
        _ path: String, _ body: String, auth: Auth = .basic, headers: [(String, String)] = []
    ) async throws
        -> Reply
    {
        try await post(path, bytes: Data(body.utf8), auth: auth, headers: headers)
    }

    func post(
        _ path: String, bytes: Data, auth: Auth = .basic, headers: [(String, String)] = []
    ) async throws
        -> Reply
    {
        var url = path.hasPrefix("http") ? path : base + path
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        switch auth {
        case .basic:
            request.headers.add(
                name: "Authorization", value: "Basic " + Data("\(Self.keyId):\(Self.secret)".utf8).base64EncodedString()
            )
        case .query:
            url += (url.contains("?") ? "&" : "?") + "apiKey=\(Self.apiKey)"
            request.url = url
        case .none:
            break
        case .custom(let header):
            request.headers.add(name: "Authorization", value: header)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 10 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: buffer), headers: response.headers)
    }

    /// Waits until the reporter has nothing queued (exposures written to the store).
    func settle() async throws {
        for _ in 0..<500 {
            let statistics = reporter.statistics
            if statistics.stored + statistics.spooled + statistics.dropped >= statistics.submitted { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
