import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

/// Whether the proxy takes traffic: ready once listening, not ready while draining.
final class ReadinessState: Sendable {
    private let box = NIOLockedValueBox<(ready: Bool, reason: String)>((false, "starting"))

    func set(ready: Bool, reason: String) {
        box.withLockedValue { $0 = (ready, reason) }
    }

    var current: (ready: Bool, reason: String) { box.withLockedValue { $0 } }
}

/// `/-/health`, `/-/ready` and `/-/metrics` on the API listener.
enum OperationsRoutes {
    static func add(
        to router: Router<BasicRequestContext>, metrics: ProxyMetrics, readiness: ReadinessState,
        beforeScrape: @escaping @Sendable () -> Void
    ) {
        router.get("/-/health") { _, _ in
            plain(.ok, "ok\n")
        }
        router.get("/-/ready") { _, _ in
            let state = readiness.current
            return plain(
                state.ready ? .ok : .serviceUnavailable, state.ready ? "ready\n" : "not ready: \(state.reason)\n")
        }
        router.get("/-/metrics") { _, _ in
            beforeScrape()
            let bytes = metrics.registry.emitToBuffer()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }

    private static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
