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

    // Stored under their own names so that the compiler's memberwise initializer exists beside the public one
    // below: it builds a decision in place, while an initializer that assigns the fields one by one was
    // compiled (Swift 6.3, -O) into a copy and a destroy of the whole struct, two retains and releases per
    // decision in `Engine.choose`.
    private var storedOptimization: OptimizationIdentity
    private var storedOutcome: Outcome
    private var storedPayload: DecisionPayload?
    private var storedAssignmentKey: String?

    /// Which optimization; shared by every decision about it, so a decision copies one reference.
    public var optimization: OptimizationIdentity {
        get { storedOptimization }
        set { storedOptimization = newValue }
    }
    public var outcome: Outcome {
        get { storedOutcome }
        set { storedOutcome = newValue }
    }
    /// The arm's payload with its strings rendered for this visitor (served outcomes only). Built on each
    /// reading from the strings `choose` rendered, so read it once per decision.
    public var payload: JSONValue? {
        get { storedPayload?.json }
        set { storedPayload = newValue.map(DecisionPayload.value) }
    }
    /// Appends the payload as JSON text, exactly as `payload?.jsonText() ?? "null"` prints it, without
    /// building it: the choose API writes its answer straight from the strings `choose` rendered.
    ///
    /// ```swift
    /// var body = ""
    /// decision.writePayloadJSON(into: &body)
    /// ```
    public func writePayloadJSON(into output: inout String) {
        switch storedPayload {
        case nil: output += "null"
        case .value(let value)?: value.write(into: &output)
        case .constant(let tables, let index)?: output += tables.payloadProgram.constantTexts[Int(index)]
        case .rendered(let payloads, let node, let textOffset)?:
            payloads.writeJSON(node: node, textOffset: textOffset, into: &output)
        }
    }

    /// The payload as `choose` left it, for reading in place (`TemplateContext(decision:)`).
    var preparedPayload: DecisionPayload? { storedPayload }
    /// The key the visitor was bucketed on; nil when skipped.
    public var assignmentKey: String? {
        get { storedAssignmentKey }
        set { storedAssignmentKey = newValue }
    }
}

extension Decision {
    /// A decision as `choose` builds it, in place.
    init(
        optimization: OptimizationIdentity, outcome: Outcome, preparedPayload: DecisionPayload?,
        assignmentKey: String?
    ) {
        self.init(
            storedOptimization: optimization, storedOutcome: outcome, storedPayload: preparedPayload,
            storedAssignmentKey: assignmentKey)
    }

    public init(
        optimization: OptimizationIdentity, outcome: Outcome, payload: JSONValue? = nil, assignmentKey: String? = nil
    ) {
        self.init(
            storedOptimization: optimization, storedOutcome: outcome, storedPayload: payload.map(DecisionPayload.value),
            storedAssignmentKey: assignmentKey)
    }

    public init(
        optimizationName: String, selector: String, group: String?, kind: Optimization.Kind, bucketVersion: Int,
        outcome: Outcome, payload: JSONValue? = nil, assignmentKey: String? = nil
    ) {
        self.init(
            optimization: OptimizationIdentity(
                name: optimizationName, selector: selector, group: group, kind: kind, bucketVersion: bucketVersion),
            outcome: outcome, payload: payload, assignmentKey: assignmentKey)
    }

    public var optimizationName: String { optimization.name }
    public var selector: String { optimization.selector }
    public var group: String? { optimization.group }
    public var kind: Optimization.Kind { optimization.kind }
    public var bucketVersion: Int { optimization.bucketVersion }

    /// What to record: served and control outcomes are exposures; skipped ones record nothing.
    public var exposure: Exposure? {
        guard let assignmentKey else { return nil }
        let arm: String
        let control: Bool
        switch outcome {
        case .served(let served):
            arm = served
            // An experiment's variant without a payload is its unchanged control.
            control = kind == .experiment && storedPayload == nil
        case .control(let held):
            arm = held
            control = true
        case .skipped:
            return nil
        }
        return Exposure(
            selector: selector, optimizationName: optimizationName, group: group, kind: kind, arm: arm,
            control: control,
            bucketVersion: bucketVersion, assignmentKey: assignmentKey)
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

/// The name, selector, group, kind and bucket version of one optimization, made once per configuration.
///
/// ```swift
/// let identity = OptimizationIdentity(name: "Welcome back", selector: "welcome-back", group: "banner",
///                                     kind: .personalization, bucketVersion: 1)
/// ```
public final class OptimizationIdentity: Sendable, Hashable {
    public let name: String
    public let selector: String
    public let group: String?
    public let kind: Optimization.Kind
    public let bucketVersion: Int

    public init(name: String, selector: String, group: String?, kind: Optimization.Kind, bucketVersion: Int) {
        self.name = name
        self.selector = selector
        self.group = group
        self.kind = kind
        self.bucketVersion = bucketVersion
    }

    public static func == (left: OptimizationIdentity, right: OptimizationIdentity) -> Bool {
        left === right
            || (left.selector == right.selector && left.name == right.name && left.group == right.group
                && left.kind == right.kind && left.bucketVersion == right.bucketVersion)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(selector)
        hasher.combine(bucketVersion)
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
