/// A client connection's view of the per-route request metrics: collectors resolved once per route and
/// connection, and the last route's kept at hand, since a connection nearly always asks for it again.
///
/// ```swift
/// var recorders = RouteRecorderCache()
/// recorders.record(route: "unrouted", status: 200, duration: .microseconds(40), metrics: metrics)
/// ```
struct RouteRecorderCache {
    private var recorders: [String: ProxyMetrics.RouteRecorder] = [:]
    private var last: (route: String, recorder: ProxyMetrics.RouteRecorder)?

    mutating func record(route: String, status: Int, duration: Duration, metrics: ProxyMetrics) {
        if let last, last.route == route {
            last.recorder.record(status: status, duration: duration)
            return
        }
        let recorder: ProxyMetrics.RouteRecorder
        if let existing = recorders[route] {
            recorder = existing
        } else {
            recorder = metrics.routeRecorder(route)
            recorders[route] = recorder
        }
        last = (route, recorder)
        recorder.record(status: status, duration: duration)
    }
}
