import Logging
import NIOPosix
import VeneerCore
import VeneerHTML

/// Where the proxy reads a person's profile view from. The store-backed `ProfileCache` is the production
/// source; the proxy asks once per personalized page.
protocol ProfileSource: Sendable {
    func profileView(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>
    ) async throws
        -> ProfileView
    /// The view when it can be had without waiting (cached); nil sends the caller to `profileView`.
    func cachedProfileView(for identification: DecisionRequest.Identification, keys: Set<EventKey>) -> ProfileView?
}

/// Where the proxy sends exposures and page views: the `Reporter`, whose `submit` never blocks.
protocol EventSink: Sendable {
    func submit(_ event: TrackEvent)
    /// Several events in one go: one journal write and one lock for all of them.
    func submit(_ events: [TrackEvent])
}

/// Applies rendered changes to a page; VeneerHTML's `PageRewriter` in production.
protocol PageRewriting: Sendable {
    func rewrite(_ page: [UInt8], contentTypeCharset: String?, changes: [RenderedChange]) -> RewriteResult
    /// The edits of the rewrite when no parse is needed to find them (the page's parse is cached); nil otherwise.
    func editsIfParsed(
        _ page: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, changes: [RenderedChange]
    ) -> RewriteResult?
    /// The prediction for a page whose first bytes are `firstBytes`, from a page parsed before; nil when none.
    func predict(
        _ firstBytes: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, changes: [RenderedChange]
    ) -> PagePrediction?
}

/// What the proxy's handlers use besides the configuration: shared by every connection.
struct ProxyServices: Sendable {
    var profiles: any ProfileSource
    var events: any EventSink
    var rewriter: any PageRewriting
    var metrics: ProxyMetrics
    /// Runs large rewrites off the event loops.
    var threadPool: NIOThreadPool
    var logger: Logger
    var failOpenLog: FailOpenLog
}
