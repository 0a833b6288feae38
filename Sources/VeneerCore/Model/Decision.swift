/// What the engine decided for one optimization: serve an arm, hold the visitor in control, or skip
/// it with a reason. The server does what it says; the engine does no I/O.
///
/// ```swift
/// for decision in engine.choose(request, profile: view, now: .now).decisions {
///     if case .served(let arm) = decision.outcome { print(decision.selector, arm) }
/// }
/// ```
public struct Decision: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// Show this experience or variant; `payload` holds its rendered payload.
        case served(arm: String)
        /// The visitor qualified for `arm` but falls in the personalization's control share: the original
        /// page, with a control exposure recorded against `arm`.
        case control(arm: String)
        /// Nothing shown and nothing recorded.
        case skipped(SkipReason)
    }

    public var optimizationName: String
    public var selector: String
    public var group: String?
    public var kind: Optimization.Kind
    public var bucketVersion: Int
    public var outcome: Outcome
    /// The arm's payload with its strings rendered for this visitor (served outcomes only).
    public var payload: JSONValue?
    /// What to record, when anything.
    public var exposure: Exposure?

    public init(
        optimizationName: String, selector: String, group: String?, kind: Optimization.Kind, bucketVersion: Int,
        outcome: Outcome, payload: JSONValue? = nil, exposure: Exposure? = nil
    ) {
        self.optimizationName = optimizationName
        self.selector = selector
        self.group = group
        self.kind = kind
        self.bucketVersion = bucketVersion
        self.outcome = outcome
        self.payload = payload
        self.exposure = exposure
    }

    /// Why, in words, for `veneer choose` and the `Veneer-Decision` header. Built on demand, so a
    /// `choose` over many optimizations allocates no text.
    public var explanation: String {
        switch outcome {
        case .served(let arm):
            return "served \(kind == .personalization ? "experience" : "variant") \"\(arm)\""
        case .control(let arm):
            return "control: qualified for experience \"\(arm)\" but falls in the control share (original page)"
        case .skipped(let reason):
            return "skipped: \(reason.rawValue) (\(reason.summary))"
        }
    }

    /// The served arm, if the visitor sees a change.
    public var servedArm: String? {
        if case .served(let arm) = outcome { return arm }
        return nil
    }
}

/// Why an optimization was not served.
public enum SkipReason: String, Sendable, Hashable, CaseIterable {
    case notTargeted = "not-targeted"
    case holdout
    case capped
    case schedule
    case device
    case draft
    case paused
    case filtered
    case noIdentity = "no-identity"

    /// A sentence for people reading `veneer choose`.
    public var summary: String {
        switch self {
        case .notTargeted: return "no audience admits this visitor"
        case .holdout: return "outside the experiment's coverage"
        case .capped: return "display frequency already reached"
        case .schedule: return "outside the schedule"
        case .device: return "not shown on this device"
        case .draft: return "status is draft"
        case .paused: return "status is paused"
        case .filtered: return "not asked for (names, groups, type or route)"
        case .noIdentity: return "no user id or profile id to bucket on"
        }
    }
}

/// An exposure to record: it travels as an `Experience exposure` track event.
public struct Exposure: Sendable, Hashable {
    public var selector: String
    public var optimizationName: String
    public var group: String?
    public var kind: Optimization.Kind
    public var arm: String
    public var control: Bool
    public var bucketVersion: Int
    public var assignmentKey: String

    public init(
        selector: String, optimizationName: String, group: String?, kind: Optimization.Kind, arm: String,
        control: Bool, bucketVersion: Int, assignmentKey: String
    ) {
        self.selector = selector
        self.optimizationName = optimizationName
        self.group = group
        self.kind = kind
        self.arm = arm
        self.control = control
        self.bucketVersion = bucketVersion
        self.assignmentKey = assignmentKey
    }
}

/// Everything one `choose` call decided, in configuration order.
public struct DecisionResult: Sendable, Hashable {
    public var decisions: [Decision]

    public init(decisions: [Decision]) {
        self.decisions = decisions
    }

    /// The served decisions: what choose-api returns and what the proxy applies.
    public var served: [Decision] { decisions.filter { $0.servedArm != nil } }

    /// Exposures to record, served and control alike.
    public var exposures: [Exposure] { decisions.compactMap(\.exposure) }
}
