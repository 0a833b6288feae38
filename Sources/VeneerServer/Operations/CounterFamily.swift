import NIOConcurrencyHelpers
import Prometheus

/// The counters of one metric with one label, by the label's value, each made once: a page looks its counter up
/// by one string, without building a label list to hash.
///
/// ```swift
/// let events = CounterFamily(registry: registry, name: "veneer_proxy_events", help: "…", label: "event")
/// events["View Page"].increment()
/// ```
final class CounterFamily: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let help: String
    private let label: String
    private let counters = NIOLockedValueBox<[String: Counter]>([:])

    init(registry: PrometheusCollectorRegistry, name: String, help: String, label: String) {
        self.registry = registry
        self.name = name
        self.help = help
        self.label = label
    }

    subscript(value: String) -> Counter {
        if let existing = counters.withLockedValue({ $0[value] }) { return existing }
        let created = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help),
            labels: [(label, value)])
        counters.withLockedValue { $0[value] = created }
        return created
    }
}
