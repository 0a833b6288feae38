import Foundation
import NIOCore
import NIOHTTP1
import VeneerCore
import VeneerHTML

/// The state of one request on a client connection, from its head to the end of its response. Owned by
/// the `ProxyHandler`; lives on the connection's event loop. It is also what the origin answers to: the
/// origin connection holds it weakly and it passes the answer on only while it is the handler's current
/// exchange.
final class ProxyExchange: OriginResponseReceiver {
    enum Phase {
        /// Waiting for the profile view and the decision.
        case deciding
        /// Waiting for an origin connection.
        case connecting
        /// Request parts go to the origin, response parts come back.
        case forwarding
        /// The page is complete and being rewritten.
        case rewriting
        /// The proxy answers by itself (redirect, error).
        case answered
    }

    enum ResponseMode {
        /// Parts are written to the client as they arrive.
        case stream
        /// The page is collected for rewriting.
        case buffer
    }

    /// The decision's consequences for this page.
    struct Personalization {
        var changes: [RenderedChange]
        /// For each change, the index of the exposure it belongs to.
        var changeOwners: [Int]
        var exposures: [Exposure]

        /// The indices of the exposures whose changes (indices in `changes`) edited the page.
        func exposures(changedBy changeIndices: some Sequence<Int>) -> Set<Int> {
            Set(changeIndices.lazy.filter { $0 < changeOwners.count }.map { changeOwners[$0] })
        }
    }

    let id: UInt64
    let configuration: ProxyConfiguration
    let requestHead: HTTPRequestHead
    let started: ContinuousClock.Instant
    let path: String
    let query: String?
    let route: RouteTable.Match?
    weak var handler: ProxyHandler?

    var phase: Phase = .connecting
    /// Routed GET or HEAD: HTML responses get `Cache-Control: private` and `Vary: Cookie`.
    var isPersonalizedRoute = false
    /// Cookies, page views and exposures apply (routed GET, not an excluded bot).
    var isTracked = false
    var visitor: Visitor?
    var page: PageFacts?
    var decisionHeader: String?
    var personalization: Personalization?
    /// Exposures recorded with the page when nothing is rewritten (controls, arms without changes).
    var pageExposures: [Exposure] = []
    /// Exposures of a rewritten page with whether the page changed for them; recorded with the page.
    var pendingExposures: [(exposure: Exposure, applied: Bool)] = []

    var pendingRequestParts: [HTTPClientRequestPart] = []
    var requestEnded = false
    var requestBodyBytes = 0
    var originRequestHead: HTTPRequestHead?
    var connection: OriginConnection?
    var reusedConnection = false
    var retried = false
    /// When the origin's response head is due (`origin.timeout` after the last request byte it was sent); nil
    /// once it came.
    var originDeadline: NIODeadline?
    /// When the last request bytes came from the client, once the request is on its way to the origin.
    var lastRequestBytesAt: NIODeadline?
    var budgetTimer: Scheduled<Void>?

    var responseMode: ResponseMode = .stream
    var originResponseHead: HTTPResponseHead?
    var bufferedBody: ByteBuffer?
    /// The buffered page may go out while it arrives, if a page parsed before starts with the same block
    /// (HTTP/1.1, the origin's bytes as they are, a client that does not ask for gzip).
    var mayStreamPage = false
    /// The page being sent while it arrives; set once its first block matched a prediction.
    var pageStream: PageStream?
    /// Rewriting time of a streamed page, summed over its pieces.
    var streamRewriteTime: Duration = .zero
    /// Streamed bytes written since the last flush.
    var streamUnflushed = false
    /// The page's `Content-Length`, when it has one: a first read of exactly that many bytes is the whole page.
    var expectedBodyBytes: Int?
    var responseHeadSent = false
    var responseStatus = 0
    var responseIsHTML = false
    var closeAfterResponse = false
    /// The response is complete; the request's end has yet to arrive.
    var awaitingRequestEnd = false

    /// Whether the request announces a body (a length above 0, or chunked).
    var expectsRequestBody: Bool {
        if requestHead.headers.containsToken("chunked", in: "transfer-encoding") { return true }
        return (requestHead.headers.contentLength ?? 0) > 0
    }

    /// Counts this exchange among its event loop's while it lives.
    let loopActivity: LoopActivity?

    init(
        id: UInt64, configuration: ProxyConfiguration, requestHead: HTTPRequestHead, started: ContinuousClock.Instant,
        loopActivity: LoopActivity? = nil
    ) {
        self.id = id
        self.loopActivity = loopActivity
        loopActivity?.exchangeStarted()
        self.configuration = configuration
        self.requestHead = requestHead
        self.started = started
        let target = Self.originForm(requestHead.uri)
        if let mark = target.firstIndex(of: "?") {
            self.path = String(target[..<mark])
            self.query = String(target[target.index(after: mark)...])
        } else {
            self.path = target
            self.query = nil
        }
        self.route = configuration.routes.match(path: path)
    }

    deinit {
        loopActivity?.exchangeEnded()
    }

    var routeLabel: String { route?.label ?? "unrouted" }

    /// The request target as a path: absolute-form URIs (`http://host/x`) become `/x`.
    static func originForm(_ uri: String) -> String {
        if uri.hasPrefix("/") || uri == "*" { return uri }
        guard let schemeEnd = uri.range(of: "://") else { return "/" + uri }
        let afterScheme = uri[schemeEnd.upperBound...]
        guard let slash = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = String(afterScheme[slash...])
        return rest.hasPrefix("?") ? "/" + rest : rest
    }

    func cancelTimers() {
        originDeadline = nil
        budgetTimer?.cancel()
        budgetTimer = nil
    }
}

extension ProxyExchange {
    func originResponseHead(_ head: HTTPResponseHead) { handler?.originResponseHead(head, exchangeID: id) }
    func originResponseBody(_ buffer: ByteBuffer) { handler?.originResponseBody(buffer, exchangeID: id) }
    func originResponseEnd() { handler?.originResponseEnd(exchangeID: id) }
    func originReadComplete() { handler?.originReadComplete(exchangeID: id) }
    func originFailed(_ error: OriginError) { handler?.originFailed(error, exchangeID: id) }
    func originWritabilityChanged(isWritable: Bool) {
        handler?.originWritabilityChanged(isWritable: isWritable, exchangeID: id)
    }
}
