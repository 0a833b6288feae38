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
            assignmentKey: request.identification.assignmentKey,
            templateContext: Visit.templateContext(request: request, profile: profile)
        )
        var decisions: [Decision] = []
        decisions.reserveCapacity(prepared.count)
        for optimization in prepared {
            decisions.append(decide(optimization, visit: visit))
        }
        return DecisionResult(decisions: decisions)
    }

    func decide(_ optimization: PreparedOptimization, visit: Visit) -> Decision {
        func skip(_ reason: SkipReason) -> Decision {
            Decision(optimization: optimization.identity, outcome: .skipped(reason))
        }
        if !optimization.isRequested(by: visit.request) { return skip(.filtered) }
        switch optimization.status {
        case .draft: return skip(.draft)
        case .paused: return skip(.paused)
        case .running: break
        }
        guard let assignmentKey = visit.assignmentKey else { return skip(.noIdentity) }
        // A new visitor has no history: skip the hashing of two lookups.
        let history = visit.profile.exposures.isEmpty ? [] : visit.profile.exposures[optimization.selector] ?? []
        let sticky =
            visit.profile.assignments.isEmpty
            ? nil
            : visit.profile.assignments[optimization.selector].flatMap {
                $0.bucketVersion == optimization.bucketVersion ? $0 : nil
            }

        let arm: PreparedArm
        // Personalizations only: the visitor qualifies but sees the original page. (An experiment's unchanged
        // variant is served; its exposure says control.)
        var control = false
        switch optimization.kind {
        case .personalization:
            switch firstAdmittedExperience(optimization, history: history, visit: visit) {
            case .failure(let reason): return skip(reason)
            case .success(let experience): arm = experience
            }
            if let sticky {
                control = sticky.control
            } else {
                let share = optimization.bucket(assignmentKey)
                control = share < optimization.controlShare
            }
        case .experiment:
            if let audience = optimization.audience, !visit.evaluator.admits(audience) { return skip(.notTargeted) }
            if let sticky, let variant = optimization.arms.first(where: { $0.name == sticky.arm }) {
                arm = variant
            } else {
                let share = optimization.bucket(assignmentKey)
                let index = Bucketing.chooseVariation(share, ranges: optimization.ranges)
                if index < 0 { return skip(.holdout) }
                arm = optimization.arms[index]
            }
            if !arm.devices.admits(visit.request.device) { return skip(.device) }
            if let schedule = arm.schedule, !schedule.admits(visit.now, timeZone: config.project.timeZone) {
                return skip(.schedule)
            }
            if !arm.display.admits(
                arm: arm.name, history: history, sessionId: visit.sessionId, nowMilliseconds: visit.nowMilliseconds)
            {
                return skip(.capped)
            }
        }

        if control {
            return Decision(
                optimization: optimization.identity, outcome: .control(arm: arm.name), assignmentKey: assignmentKey)
        }
        return Decision(
            optimization: optimization.identity, outcome: .served(arm: arm.name),
            payload: arm.renderPayload(visit.templateContext), assignmentKey: assignmentKey)
    }

    /// The first experience, in priority order, that admits the visitor; else the reason of the one that came
    /// closest (capped, then schedule, then device, then not targeted).
    func firstAdmittedExperience(_ optimization: PreparedOptimization, history: [ExposureRecord], visit: Visit)
        -> Result<PreparedArm, SkipReason>
    {
        var closest = SkipReason.notTargeted
        func note(_ reason: SkipReason) {
            if Self.closeness(reason) > Self.closeness(closest) { closest = reason }
        }
        for arm in optimization.arms {
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
            return .success(arm)
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
}

extension SkipReason: Error {}

/// One `choose` call's view of the visitor, built once per call and shared by every decision.
struct Visit {
    let request: DecisionRequest
    let profile: ProfileView
    let now: Date
    let nowMilliseconds: Int64
    let evaluator: AudienceEvaluator
    let sessionId: String
    let assignmentKey: String?
    let templateContext: TemplateContext

    static func templateContext(request: DecisionRequest, profile: ProfileView) -> TemplateContext {
        TemplateContext(
            user: profile.userAttributes, account: profile.accountAttributes, payload: .null,
            visitor: TemplateContext.visitorFacts(for: request), request: request.page)
    }
}
