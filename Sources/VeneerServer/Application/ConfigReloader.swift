import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import VeneerCore

/// Reloads proxy.conf on SIGHUP and when the file changes (polled once a second, by modification time and
/// size). A file that fails validation is refused: the running configuration stays and the errors are
/// logged as `veneer check` prints them.
struct ConfigReloader: Service {
    let path: String
    let holder: ProxyConfigurationHolder
    let metrics: ProxyMetrics
    let failOpenLog: FailOpenLog
    let logger: Logger
    var pollInterval: Duration = .seconds(1)
    /// Called after a new configuration is in force.
    var onReload: @Sendable (ProxyConfiguration) -> Void = { _ in }

    func run() async throws {
        let initialFingerprint = Self.fingerprint(path)
        let signals = await UnixSignalsSequence(trapping: .sighup)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    reload(reason: "SIGHUP")
                }
            }
            group.addTask {
                var lastSeen = initialFingerprint
                while !Task.isCancelled, !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: pollInterval)
                    let current = Self.fingerprint(path)
                    if current != lastSeen, current != nil {
                        lastSeen = current
                        reload(reason: "file changed")
                    }
                }
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Loads, validates and swaps in the file; returns whether it is now in force.
    @discardableResult
    func reload(reason: String) -> Bool {
        let result = Self.load(path: path)
        switch result {
        case .success(let configuration):
            let previous = holder.current
            holder.replace(with: configuration)
            failOpenLog.reset()
            metrics.configReload(succeeded: true)
            logger.info(
                "configuration reloaded",
                metadata: [
                    "reason": .string(reason), "optimizations": "\(configuration.config.optimizations.count)",
                ])
            if previous.config.server.listen != configuration.config.server.listen
                || previous.config.server.apiListen != configuration.config.server.apiListen
            {
                logger.warning("listen addresses change only on restart")
            }
            onReload(configuration)
            return true
        case .failure(let errors):
            metrics.configReload(succeeded: false)
            logger.error(
                "configuration refused, the running one stays",
                metadata: ["reason": .string(reason), "errors": .string(errors.description)])
            for diagnostic in errors.diagnostics {
                FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
            }
            return false
        }
    }

    static func load(path: String) -> Result<ProxyConfiguration, ConfigErrors> {
        do {
            let config = try ConfigLoader.load(path: path)
            do {
                return .success(try ProxyConfiguration(config: config))
            } catch {
                return .failure(
                    ConfigErrors(diagnostics: [
                        ConfigDiagnostic(file: path, keyPath: "origin.url", message: error.message)
                    ]))
            }
        } catch {
            return .failure(error)
        }
    }

    struct Fingerprint: Equatable {
        var modified: Date
        var size: Int
    }

    static func fingerprint(_ path: String) -> Fingerprint? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let modified = attributes[.modificationDate] as? Date
        else { return nil }
        return Fingerprint(modified: modified, size: (attributes[.size] as? Int) ?? 0)
    }
}
