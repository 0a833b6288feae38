import Logging
import NIOConcurrencyHelpers

/// Logs each fail-open cause once (the metric counts every occurrence), so a broken template or a store
/// outage does not flood the log.
final class FailOpenLog: Sendable {
    private let logged = NIOLockedValueBox<Set<String>>([])

    func record(_ cause: FailOpenCause, detail: String, logger: Logger, metrics: ProxyMetrics) {
        metrics.failOpen(cause)
        let first = logged.withLockedValue { $0.insert(cause.rawValue).inserted }
        if first {
            logger.warning(
                "serving the original page", metadata: ["cause": .string(cause.rawValue), "detail": .string(detail)])
        }
    }

    /// Forgets what was logged, so a new configuration's problems are reported again.
    func reset() {
        logged.withLockedValue { $0.removeAll() }
    }
}

/// Why a page was served unchanged although it could have been personalized.
enum FailOpenCause: String, Sendable, CaseIterable {
    case decisionBudget = "decision-budget"
    case profileError = "profile-error"
    case decisionError = "decision-error"
    case templateError = "template-error"
    case rewriteError = "rewrite-error"
    case pageTooLarge = "page-too-large"
    case decodeError = "decode-error"
    case redirectRejected = "redirect-rejected"
    case reporterError = "reporter-error"
}
