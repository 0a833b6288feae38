public import Foundation

/// The decision engine: pure and deterministic. It returns what to do; the server does it.
///
/// Built once per configuration (selectors, seeds and bucket ranges are prepared here), then
/// `choose` is called per request with the visitor's profile view.
///
/// ```swift
/// let engine = Engine(config: config)
/// let result = engine.choose(request, profile: view, now: Date())
/// for decision in result.served { print(decision.selector, decision.servedArm!) }
/// ```
public struct Engine: Sendable {
    /// The session scope used when a request carries no session id (Intempt's own fallback).
    public static let defaultSession = "default"

    public let config: VeneerConfig
    let prepared: [PreparedOptimization]
    let segments: [String: Audience]

    public init(config: VeneerConfig) {
        self.config = config
        self.prepared = config.optimizations.map(PreparedOptimization.init)
        self.segments = Dictionary(config.segments.map { ($0.name, $0.audience) }, uniquingKeysWith: { first, _ in first })
    }

    public func choose(_ request: DecisionRequest, profile: ProfileView, now: Date) -> DecisionResult {
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let visit = Visit(
            request: request,
            profile: profile,
            now: now,
            nowMilliseconds: nowMilliseconds,
            evaluator: AudienceEvaluator(
                profile: profile, page: request.page, nowMilliseconds: nowMilliseconds, segments: segments),
            sessionId: request.sessionId.flatMap { $0.isEmpty ? nil : $0 } ?? Engine.defaultSession,
            assignmentKey: request.identification.assignmentKey
        )
        var decisions: [Decision] = []
        decisions.reserveCapacity(prepared.count)
        for optimization in prepared {
            decisions.append(decide(optimization, visit: visit))
        }
        return DecisionResult(decisions: decisions)
    }

    func decide(_ prepared: PreparedOptimization, visit: Visit) -> Decision {
        let optimization = prepared.optimization
        func skip(_ reason: SkipReason) -> Decision {
            Decision(
                optimizationName: optimization.name, selector: optimization.selector, group: optimization.group,
                kind: optimization.kind, bucketVersion: optimization.bucketVersion, outcome: .skipped(reason))
        }
        if !Self.isRequested(optimization, by: visit.request) { return skip(.filtered) }
        switch optimization.status {
        case .draft: return skip(.draft)
        case .paused: return skip(.paused)
        case .running: break
        }
        guard let assignmentKey = visit.assignmentKey else { return skip(.noIdentity) }
        let history = visit.profile.exposures[optimization.selector] ?? []
        let sticky = visit.profile.assignments[optimization.selector].flatMap {
            $0.bucketVersion == optimization.bucketVersion ? $0 : nil
        }

        let chosenIndex: Int
        let control: Bool
        switch optimization.kind {
        case .personalization:
            switch firstAdmittedExperience(prepared, history: history, visit: visit) {
            case .failure(let reason): return skip(reason)
            case .success(let index): chosenIndex = index
            }
            if let sticky {
                control = sticky.control
            } else {
                let share = Bucketing.hash(seed: prepared.seed, value: assignmentKey, version: 2) ?? 1
                control = share < optimization.controlPercent / 100
            }
        case .experiment:
            if let audience = optimization.audience, !visit.evaluator.admits(audience) { return skip(.notTargeted) }
            if let sticky, let index = optimization.arms.firstIndex(where: { $0.name == sticky.arm }) {
                chosenIndex = index
            } else {
                let share = Bucketing.hash(seed: prepared.seed, value: assignmentKey, version: 2) ?? 1
                let index = Bucketing.chooseVariation(share, ranges: prepared.ranges)
                if index < 0 { return skip(.holdout) }
                chosenIndex = index
            }
            let arm = optimization.arms[chosenIndex]
            if !arm.devices.admits(visit.request.device) { return skip(.device) }
            if let schedule = arm.schedule, !schedule.admits(visit.now, timeZone: config.project.timeZone) {
                return skip(.schedule)
            }
            if !arm.display.admits(
                arm: arm.name, history: history, sessionId: visit.sessionId, nowMilliseconds: visit.nowMilliseconds)
            {
                return skip(.capped)
            }
            control = arm.payload == nil
        }

        let arm = optimization.arms[chosenIndex]
        let exposure = Exposure(
            selector: optimization.selector, optimizationName: optimization.name, group: optimization.group,
            kind: optimization.kind, arm: arm.name, control: control, bucketVersion: optimization.bucketVersion,
            assignmentKey: assignmentKey)
        if control, optimization.kind == .personalization {
            return Decision(
                optimizationName: optimization.name, selector: optimization.selector, group: optimization.group,
                kind: optimization.kind, bucketVersion: optimization.bucketVersion, outcome: .control(arm: arm.name),
                exposure: exposure)
        }
        let payload = arm.compiledPayload.map { $0.render(visit.templateContext) } ?? arm.payload
        return Decision(
            optimizationName: optimization.name, selector: optimization.selector, group: optimization.group,
            kind: optimization.kind, bucketVersion: optimization.bucketVersion, outcome: .served(arm: arm.name),
            payload: payload, exposure: exposure)
    }

    /// The first experience, in priority order, that admits the visitor; else the reason of the one that came
    /// closest (capped, then schedule, then device, then not targeted).
    func firstAdmittedExperience(_ prepared: PreparedOptimization, history: [ExposureRecord], visit: Visit)
        -> Result<Int, SkipReason>
    {
        var closest = SkipReason.notTargeted
        func note(_ reason: SkipReason) {
            if Self.closeness(reason) > Self.closeness(closest) { closest = reason }
        }
        for (index, arm) in prepared.optimization.arms.enumerated() {
            // No audience is "needs setup": never served (and `veneer check` says so).
            guard let audience = arm.audience else { continue }
            if !arm.devices.admits(visit.request.device) {
                note(.device)
                continue
            }
            if let schedule = arm.schedule, !schedule.admits(visit.now, timeZone: config.project.timeZone) {
                note(.schedule)
                continue
            }
            if !visit.evaluator.admits(audience) { continue }
            if !arm.display.admits(
                arm: arm.name, history: history, sessionId: visit.sessionId, nowMilliseconds: visit.nowMilliseconds)
            {
                note(.capped)
                continue
            }
            return .success(index)
        }
        return .failure(closest)
    }

    static func closeness(_ reason: SkipReason) -> Int {
        switch reason {
        case .capped: return 3
        case .schedule: return 2
        case .device: return 1
        default: return 0
        }
    }

    /// `names`/`groups`: omitted = all, `[]` = none, both given = either. `optimizationType` filters by kind.
    static func isRequested(_ optimization: Optimization, by request: DecisionRequest) -> Bool {
        if let kind = request.optimizationType, kind != optimization.kind { return false }
        if request.names == nil, request.groups == nil { return true }
        if let names = request.names, names.contains(optimization.selector) { return true }
        if let groups = request.groups, let group = optimization.group, groups.contains(group) { return true }
        return false
    }
}

extension SkipReason: Error {}

/// What `choose` prepares once per configuration for each optimization.
struct PreparedOptimization: Sendable {
    let optimization: Optimization
    let seed: String
    /// Experiments: the bucket range of each variant, scaled by coverage.
    let ranges: [ClosedRange<Double>]

    init(_ optimization: Optimization) {
        self.optimization = optimization
        self.seed = Bucketing.seed(selector: optimization.selector, bucketVersion: optimization.bucketVersion)
        if optimization.kind == .experiment {
            self.ranges = Bucketing.bucketRanges(
                count: optimization.arms.count, coverage: optimization.coveragePercent / 100,
                weights: optimization.arms.map { $0.weight / 100 })
        } else {
            self.ranges = []
        }
    }
}

/// One `choose` call's view of the visitor; the template context is built only when a payload renders.
struct Visit {
    let request: DecisionRequest
    let profile: ProfileView
    let now: Date
    let nowMilliseconds: Int64
    let evaluator: AudienceEvaluator
    let sessionId: String
    let assignmentKey: String?

    var templateContext: TemplateContext {
        TemplateContext(
            user: profile.userAttributes,
            account: profile.accountAttributes,
            payload: .null,
            visitor: [
                "device": .string(request.device.rawValue),
                "profile_id": request.identification.profileId.map(JSONValue.string) ?? .null,
                "user_id": request.identification.userId.map(JSONValue.string) ?? .null,
                "session_id": request.sessionId.map(JSONValue.string) ?? .null,
                "new": .bool(request.isNewVisitor),
                "returning": .bool(!request.isNewVisitor),
            ],
            request: request.page
        )
    }
}
