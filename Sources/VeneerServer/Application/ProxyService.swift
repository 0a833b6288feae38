import Logging
import ServiceLifecycle

/// Runs the public listener as a ServiceLifecycle service: listen, wait for graceful shutdown, drain.
struct ProxyService: Service {
    let server: ProxyServer
    let host: String
    let port: Int
    let readiness: ReadinessState
    let drainDeadline: Duration

    func run() async throws {
        try await server.start(host: host, port: port)
        readiness.set(ready: true, reason: "")
        try? await gracefulShutdown()
        readiness.set(ready: false, reason: "draining")
        server.services.logger.info("draining the proxy", metadata: ["connections": "\(server.openConnections)"])
        await server.shutdown(deadline: drainDeadline)
    }
}
