/// A personalization or an experiment, as proxy.conf declares it.
///
/// ```swift
/// let optimization = config.optimizations.first { $0.selector == "welcome-back" }
/// optimization?.isServing  // true when status is running
/// ```
public struct Optimization: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case personalization
        case experiment
    }

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case draft
        case running
        case paused
    }

    public var name: String
    /// The API selector: `^[a-zA-Z0-9_-]+$`, derived from the name when not given.
    public var selector: String
    public var group: String?
    public var kind: Kind
    public var status: Status
    public var metrics: Metrics
    public var bucketVersion: Int
    /// Personalization: percent of qualifying visitors who see the original page.
    public var controlPercent: Double
    /// Experiment: percent of eligible visitors enrolled.
    public var coveragePercent: Double
    /// Experiment: who is eligible. Personalizations target per experience.
    public var audience: Audience?
    /// Personalization experiences in priority order, or experiment variants.
    public var arms: [Arm]

    public init(
        name: String, selector: String, group: String? = nil, kind: Kind, status: Status = .running,
        metrics: Metrics = Metrics(primary: Metric(event: "")), bucketVersion: Int = 1, controlPercent: Double = 0,
        coveragePercent: Double = 100, audience: Audience? = nil, arms: [Arm]
    ) {
        self.name = name
        self.selector = selector
        self.group = group
        self.kind = kind
        self.status = status
        self.metrics = metrics
        self.bucketVersion = bucketVersion
        self.controlPercent = controlPercent
        self.coveragePercent = coveragePercent
        self.audience = audience
        self.arms = arms
    }

    public var isServing: Bool { status == .running }

    /// Derives an API selector from a display name: lower-case, runs of other characters become `-`.
    public static func derivedSelector(from name: String) -> String {
        var result = ""
        var pendingDash = false
        for scalar in name.lowercased().unicodeScalars {
            let isAllowed = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
            if isAllowed {
                if pendingDash, !result.isEmpty { result += "-" }
                pendingDash = false
                result.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return result
    }
}

/// An experience of a personalization or a variant of an experiment.
public struct Arm: Sendable, Hashable {
    public var name: String
    /// Experiments: the share in percent. Personalizations: unused.
    public var weight: Double
    /// Personalizations: mandatory ("needs setup" without it). Experiments: unused.
    public var audience: Audience?
    public var display: DisplayFrequency
    public var devices: DeviceFilter
    public var schedule: Schedule?
    /// The default template for changes that name none.
    public var template: String?
    /// The payload as written: its strings are templates rendered per visitor.
    public var payload: JSONValue?
    /// The payload's strings compiled once at load.
    public var compiledPayload: PayloadTemplate?
    /// The payload's `changes`, compiled (selectors and templates checked at load).
    public var changes: [PageChange]
    /// The payload's `redirect`, when it has one.
    public var redirect: RedirectRule?

    public init(
        name: String, weight: Double = 0, audience: Audience? = nil, display: DisplayFrequency = .always,
        devices: DeviceFilter = .all, schedule: Schedule? = nil, template: String? = nil, payload: JSONValue? = nil,
        compiledPayload: PayloadTemplate? = nil, changes: [PageChange] = [], redirect: RedirectRule? = nil
    ) {
        self.compiledPayload = compiledPayload
        self.changes = changes
        self.redirect = redirect
        self.name = name
        self.weight = weight
        self.audience = audience
        self.display = display
        self.devices = devices
        self.schedule = schedule
        self.template = template
        self.payload = payload
    }
}

public struct Metrics: Sendable, Hashable {
    public var primary: Metric
    public var secondary: [Metric]

    public init(primary: Metric, secondary: [Metric] = []) {
        self.primary = primary
        self.secondary = secondary
    }
}

public struct Metric: Sendable, Hashable {
    public enum Aggregate: String, Sendable, Hashable, CaseIterable {
        case count, first, last, sum, avg, max, min
    }

    public var event: String
    public var property: String?
    public var aggregate: Aggregate

    public init(event: String, property: String? = nil, aggregate: Aggregate = .count) {
        self.event = event
        self.property = property
        self.aggregate = aggregate
    }
}

public enum DeviceFilter: String, Sendable, Hashable, CaseIterable {
    case all, mobile, desktop

    public func admits(_ device: Device) -> Bool {
        switch self {
        case .all: return true
        case .mobile: return device == .mobile
        case .desktop: return device == .desktop
        }
    }
}

/// The device a request comes from. API input is case-insensitive; a missing device means `all`.
public enum Device: String, Sendable, Hashable, CaseIterable {
    case all, mobile, desktop

    public init?(caseInsensitive text: String) {
        self.init(rawValue: text.lowercased())
    }
}

public enum DisplayFrequency: Sendable, Hashable {
    case always
    case once
    case oncePerVisit
    case cap(times: Int, per: CapPeriod)

    public enum CapPeriod: Sendable, Hashable {
        case visit
        /// A rolling window of this many seconds ("day" is 86,400).
        case window(seconds: Int64)
    }
}
