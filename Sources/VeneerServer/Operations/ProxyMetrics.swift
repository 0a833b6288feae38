import NIOConcurrencyHelpers
public import Prometheus
import VeneerHTML

/// The proxy's Prometheus metrics (issue 5, point 8). Collectors are created once per label set and kept,
/// so the hot path pays one uncontended lock per lookup.
///
/// ```swift
/// let metrics = ProxyMetrics(registry: PrometheusCollectorRegistry())
/// metrics.request(route: "/", status: 200, duration: .milliseconds(3))
/// print(metrics.registry.emitToString())
/// ```
public final class ProxyMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let counters = NIOLockedValueBox<[CollectorKey: Counter]>([:])
    private let histograms = NIOLockedValueBox<[CollectorKey: DurationHistogram]>([:])
    private let gauges = NIOLockedValueBox<[CollectorKey: Gauge]>([:])

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    static let rewriteBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100),
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.lookupFromCache = Self.lookupHistogram(registry, source: "cache")
        self.lookupFromStore = Self.lookupHistogram(registry, source: "store")
        let connections = MetricNameDescriptor(
            metricName: "veneer_origin_connections", unitName: "total",
            helpText: "Origin connections used, new or reused from the pool")
        self.reusedConnections = registry.makeCounter(descriptor: connections, labels: [("kind", "reused")])
        self.newConnections = registry.makeCounter(descriptor: connections, labels: [("kind", "new")])
        // Counted for nearly every page.
        self.profileLookups = CounterFamily(
            registry: registry, name: "veneer_profile_lookups", help: "Profile view lookups by result",
            label: "result")
        self.proxyEvents = CounterFamily(
            registry: registry, name: "veneer_proxy_events", help: "Events the proxy submitted to the reporter",
            label: "event")
        // Once per personalized page: resolved here, not looked up by name and labels (an array to build and
        // hash, under a lock) each time.
        let rewrite = MetricNameDescriptor(
            metricName: "veneer_rewrite_duration", unitName: "seconds",
            helpText: "Decode, rewrite and encode time of a personalized page")
        self.rewriteChanged = registry.makeDurationHistogram(
            descriptor: rewrite, labels: [("changed", "true")], buckets: Self.rewriteBuckets)
        self.rewriteUnchanged = registry.makeDurationHistogram(
            descriptor: rewrite, labels: [("changed", "false")], buckets: Self.rewriteBuckets)
        let pageChanges = MetricNameDescriptor(
            metricName: "veneer_page_changes", unitName: "total", helpText: "Page changes by result")
        self.changesApplied = registry.makeCounter(descriptor: pageChanges, labels: [("result", "applied")])
        self.changesSkipped = registry.makeCounter(descriptor: pageChanges, labels: [("result", "skipped")])
        let streamed = MetricNameDescriptor(
            metricName: "veneer_streamed_pages", unitName: "total",
            helpText: "Rewritten pages sent while they arrived, by how they ended")
        self.streamedComplete = registry.makeCounter(descriptor: streamed, labels: [("result", "complete")])
        self.streamedDisagreed = registry.makeCounter(descriptor: streamed, labels: [("result", "disagreed")])
    }

    private let streamedComplete: Counter
    private let streamedDisagreed: Counter

    /// A page sent while it arrived was completed.
    func pageStreamed() {
        streamedComplete.increment()
    }

    /// A page sent while it arrived turned out different, and its whole rewrite disagreed with what was sent.
    func streamedPageDisagreed() {
        streamedDisagreed.increment()
    }

    private let rewriteChanged: DurationHistogram
    private let rewriteUnchanged: DurationHistogram
    private let changesApplied: Counter
    private let changesSkipped: Counter

    private let profileLookups: CounterFamily
    private let proxyEvents: CounterFamily

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String {
        registry.emitToString()
    }

    /// One answered request: counted by route and status class, timed by route.
    func request(route: String, status: Int, duration: Duration) {
        routeRecorder(route).record(status: status, duration: duration)
    }

    /// The collectors of one route, resolved once: connections keep theirs, so a request pays no lookup.
    final class RouteRecorder: Sendable {
        let duration: DurationHistogram
        /// Indexed by status / 100 (0…5); 0 holds anything out of range.
        let counters: [Counter]

        init(duration: DurationHistogram, counters: [Counter]) {
            self.duration = duration
            self.counters = counters
        }

        func record(status: Int, duration elapsed: Duration) {
            let index = status / 100
            counters[(1...5).contains(index) ? index : 0].increment()
            duration.record(elapsed)
        }
    }

    private let routeRecorders = NIOLockedValueBox<[String: RouteRecorder]>([:])

    func routeRecorder(_ route: String) -> RouteRecorder {
        if let existing = routeRecorders.withLockedValue({ $0[route] }) { return existing }
        let classes = ["other", "1xx", "2xx", "3xx", "4xx", "5xx"]
        let recorder = RouteRecorder(
            duration: histogram(
                "veneer_request_duration", "seconds", "Time from request head to the end of the response",
                [("route", route)], buckets: Self.latencyBuckets),
            counters: classes.map { statusClass in
                counter(
                    "veneer_requests", "total", "Requests answered by the public listener",
                    [("route", route), ("status", statusClass)])
            })
        routeRecorders.withLockedValue { $0[route] = recorder }
        return recorder
    }

    /// One decision outcome per optimization: `served`, `control` or a skip reason.
    /// Once per decision of every page: found by a key of its three labels, which allocates nothing, where the
    /// general lookup would build an array of six strings to hash.
    func decision(selector: String, arm: String, outcome: String) {
        let key = DecisionKey(selector: selector, arm: arm, outcome: outcome)
        if let existing = decisionCounters.withLockedValue({ $0[key] }) {
            existing.increment()
            return
        }
        let created = counter(
            "veneer_decisions", "total", "Decisions by optimization, arm and outcome",
            [("optimization", selector), ("arm", arm), ("outcome", outcome)])
        decisionCounters.withLockedValue { $0[key] = created }
        created.increment()
    }

    private struct DecisionKey: Hashable {
        var selector: String
        var arm: String
        var outcome: String
    }

    private let decisionCounters = NIOLockedValueBox<[DecisionKey: Counter]>([:])

    func failOpen(_ cause: FailOpenCause) {
        counter("veneer_fail_open", "total", "Pages served unchanged by cause", [("cause", cause.rawValue)]).increment()
    }

    func originError(_ error: OriginError) {
        counter("veneer_origin_errors", "total", "Origin failures by cause", [("cause", error.metricCause)]).increment()
    }

    /// Called per request: the two counters are made once, not looked up.
    func originConnection(reused: Bool) {
        (reused ? reusedConnections : newConnections).increment()
    }

    private let reusedConnections: Counter
    private let newConnections: Counter

    func rewrite(duration: Duration, changed: Bool) {
        (changed ? rewriteChanged : rewriteUnchanged).record(duration)
    }

    func rewriteChanges(applied: Int, skipped: Int) {
        if applied > 0 { changesApplied.increment(by: Int64(applied)) }
        if skipped > 0 { changesSkipped.increment(by: Int64(skipped)) }
    }

    static let lookupBuckets: [Duration] = [
        .microseconds(5), .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100),
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
    ]

    /// The proxy's profile lookups by outcome: `ok`, `error`, or `over-budget` (the page went out unchanged).
    func profileLookup(result: String) {
        profileLookups[result].increment()
    }

    /// How long one profile view took to get, by where it came from: the cache, or the store (a miss). The
    /// proxy and choose-api share the cache, so both show here. Called per request: the two histograms are
    /// resolved once, not looked up by label each time.
    public func profileLookup(fromCache: Bool, duration: Duration) {
        (fromCache ? lookupFromCache : lookupFromStore).record(duration)
    }

    private let lookupFromCache: DurationHistogram
    private let lookupFromStore: DurationHistogram

    private static func lookupHistogram(_ registry: PrometheusCollectorRegistry, source: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                metricName: "veneer_profile_lookup_duration", unitName: "seconds",
                helpText: "Time to get a profile view, from the cache or the store"),
            labels: [("source", source)], buckets: lookupBuckets)
    }

    func cache(hits: Int64, misses: Int64, staleHits: Int64, refreshesDeferred: Int64) {
        gauge("veneer_profile_cache_hits", "total", "Profile cache hits since start", []).set(Double(hits))
        gauge("veneer_profile_cache_misses", "total", "Profile cache misses since start", []).set(Double(misses))
        gauge(
            "veneer_profile_cache_stale_hits", "total",
            "Views served past their life, each starting a read in the background unless deferred, since start", []
        ).set(Double(staleHits))
        gauge(
            "veneer_profile_cache_refreshes_deferred", "total",
            "Views served past their life without starting a read, as the most reads at once were running, since start",
            []
        ).set(Double(refreshesDeferred))
    }

    /// The page rewriter's parse cache, and the pages answered from a kept page they differ from only in words
    /// (a fresh nonce or token), read at each scrape.
    func pageParses(_ statistics: PageRewriter.CacheStatistics) {
        gauge("veneer_page_parse_cache_hits", "total", "Pages whose parse came from the cache, since start", [])
            .set(Double(statistics.hits))
        gauge("veneer_page_parse_cache_misses", "total", "Pages parsed, since start", [])
            .set(Double(statistics.misses))
        gauge(
            "veneer_page_parses_derived", "total",
            "Pages answered from a kept page they differ from only in words, without a parse, since start", []
        ).set(Double(statistics.derived))
    }

    /// The reporter's queue and where its events went, read at each scrape.
    func reporter(queued: Int, statistics: Reporter.Statistics) {
        gauge("veneer_reporter_queued", "events", "Events waiting in memory for the store", []).set(Double(queued))
        for (outcome, value) in [
            ("submitted", statistics.submitted), ("stored", statistics.stored), ("spooled", statistics.spooled),
            ("replayed", statistics.replayed), ("dropped", statistics.dropped), ("forwarded", statistics.forwarded),
        ] {
            gauge("veneer_reporter_events", "total", "Reporter events since start by outcome", [("outcome", outcome)])
                .set(Double(value))
        }
    }

    func configReload(succeeded: Bool) {
        counter(
            "veneer_config_reloads", "total", "Configuration reloads by result",
            [("result", succeeded ? "applied" : "refused")]
        ).increment()
    }

    func eventsSubmitted(_ name: String) {
        proxyEvents[name].increment()
    }

    // MARK: collectors

    private struct CollectorKey: Hashable {
        var name: String
        var labels: [String]
    }

    private func counter(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Counter {
        let key = CollectorKey(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        if let existing = counters.withLockedValue({ $0[key] }) { return existing }
        let created = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: labels)
        counters.withLockedValue { $0[key] = created }
        return created
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        let key = CollectorKey(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        if let existing = gauges.withLockedValue({ $0[key] }) { return existing }
        let created = registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: labels)
        gauges.withLockedValue { $0[key] = created }
        return created
    }

    private func histogram(
        _ name: String, _ unit: String, _ help: String, _ labels: [(String, String)], buckets: [Duration]
    ) -> DurationHistogram {
        let key = CollectorKey(name: name, labels: labels.flatMap { [$0.0, $0.1] })
        if let existing = histograms.withLockedValue({ $0[key] }) { return existing }
        let created = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(metricName: name, unitName: unit, helpText: help), labels: labels,
            buckets: buckets)
        histograms.withLockedValue { $0[key] = created }
        return created
    }
}
