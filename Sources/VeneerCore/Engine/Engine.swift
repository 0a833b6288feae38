public import Foundation

/// The decision engine: pure and deterministic. It returns what to do; the server does it.
///
/// Built once per configuration (audiences, selectors, seeds, bucket ranges and payload templates are
/// prepared here), then `choose` is called per request with the visitor's profile view.
///
/// ```swift
/// let engine = Engine(config: config)
/// let view = try await store.profileView(for: identification, keys: engine.eventKeys)
/// let result = engine.choose(request, profile: view, now: Date())
/// for decision in result.served { print(decision.selector, decision.servedArm!) }
/// ```
public struct Engine: Sendable {
    /// The session scope used when a request carries no session id (Intempt's own fallback).
    public static let defaultSession = "default"

    public let config: VeneerConfig
    /// `config.eventKeys`, computed once: the event summaries a profile view must hold for this engine.
    public let eventKeys: Set<EventKey>
    let tables: EngineTables

    public init(config: VeneerConfig) {
        self.config = config
        self.eventKeys = config.eventKeys
        self.tables = EngineTables(config: config)
    }

    public func choose(_ request: DecisionRequest, profile: ProfileView, now: Date) -> DecisionResult {
        let tables = self.tables
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let sessionId = request.sessionId.flatMap { $0.isEmpty ? nil : $0 } ?? Engine.defaultSession
        let assignmentKey = request.identification.assignmentKey
        let layout = ChooseScratch.Layout(tables: tables, keyUnitCount: assignmentKey?.utf16.count ?? 0)
        // At least a byte, so that the memory has an address even when every region is empty.
        return withUnsafeTemporaryAllocation(
            byteCount: max(layout.byteCount, 1), alignment: ChooseScratch.Layout.alignment
        ) {
            memory in
            let scratch = ChooseScratch(memory, layout: layout, assignmentKey: assignmentKey)
            defer { scratch.deinitialize() }
            Self.locateHistory(of: profile, in: scratch.history, selectors: tables.selectors)
            // Immutable, so passing it to `decide` copies nothing.
            let visit = Visit(
                now: now, nowMilliseconds: nowMilliseconds, sessionId: sessionId, assignmentKey: assignmentKey,
                assignmentKeyUnits: scratch.keyUnits,
                audiences: AudienceEvaluator(
                    program: tables.audiences, answers: scratch.answers,
                    facts: scratch.facts.baseAddress.unsafelyUnwrapped, nowMilliseconds: nowMilliseconds),
                history: scratch.history.baseAddress.unsafelyUnwrapped)
            let count = tables.optimizations.count
            // First every verdict, so that the strings of the served payloads are counted before the one
            // allocation that holds them.
            var textCount = 0
            for index in 0..<count {
                let verdict = decide(index, request: request, profile: profile, visit: visit)
                (scratch.verdicts + index).initialize(to: verdict)
                if case .served(let arm) = verdict, case .rendered(_, _, let texts) = tables.payloads[arm] {
                    textCount += Int(texts)
                }
            }
            var renderer = PayloadRenderer(
                program: tables.payloadProgram, values: scratch.values.baseAddress.unsafelyUnwrapped,
                runs: scratch.runs)
            var payloads: RenderedPayloads?
            if textCount > 0 {
                // Then their length, which renders each substitution once, so that one allocation holds them.
                var byteCount = 0
                for index in 0..<count {
                    if case .served(let arm) = scratch.verdicts[index],
                        case .rendered(_, let firstText, let texts) = tables.payloads[arm]
                    {
                        byteCount += renderer.byteCount(
                            ofTexts: firstText, count: texts, request: request, profile: profile)
                    }
                }
                payloads = RenderedPayloads.make(tables: tables, textCapacity: textCount, byteCapacity: byteCount)
            }
            // Each decision is built once, in its place in the array: `decision` returns plain data.
            let decisions = [Decision](unsafeUninitializedCapacity: count) { buffer, initialized in
                let base = buffer.baseAddress.unsafelyUnwrapped
                for index in 0..<count {
                    (base + index).initialize(
                        to: decision(
                            index, scratch.verdicts[index], assignmentKey: assignmentKey,
                            renderer: &renderer, payloads: payloads))
                    initialized = index + 1
                }
            }
            return DecisionResult(decisions: decisions)
        }
    }

    /// Notes where each optimization's exposure history and sticky assignment sit in the profile: one pass
    /// over the selectors the visitor has, instead of two dictionary lookups per optimization.
    static func locateHistory(
        of profile: ProfileView, in slots: UnsafeMutableBufferPointer<HistorySlot>, selectors: SelectorIndex
    ) {
        let exposures = profile.exposures
        var position = exposures.startIndex
        while position != exposures.endIndex {
            var optimization = selectors.first(of: exposures.keys[position])
            while optimization >= 0 {
                slots[Int(optimization)].exposures = position
                optimization = selectors.next[Int(optimization)]
            }
            exposures.formIndex(after: &position)
        }
        let assignments = profile.assignments
        var assignment = assignments.startIndex
        while assignment != assignments.endIndex {
            var optimization = selectors.first(of: assignments.keys[assignment])
            while optimization >= 0 {
                slots[Int(optimization)].assignment = assignment
                optimization = selectors.next[Int(optimization)]
            }
            assignments.formIndex(after: &assignment)
        }
    }

    /// The decision for a verdict, with the served arm's payload strings (their substitutions already
    /// rendered) written onto the end of `payloads`.
    func decision(
        _ index: Int, _ verdict: Verdict, assignmentKey: String?, renderer: inout PayloadRenderer,
        payloads: RenderedPayloads?
    ) -> Decision {
        let identity = tables.optimizations[index].identity.takeUnretainedValue()
        switch verdict {
        case .skipped(let reason):
            return Decision(optimization: identity, outcome: .skipped(reason), preparedPayload: nil, assignmentKey: nil)
        case .control(let arm):
            return Decision(
                optimization: identity, outcome: .control(arm: tables.armNames[arm]), preparedPayload: nil,
                assignmentKey: assignmentKey)
        case .served(let arm):
            let payload: DecisionPayload?
            switch tables.payloads[arm] {
            case .none:
                payload = nil
            case .constant(let constant):
                payload = .constant(tables, index: constant)
            case .rendered(let node, let firstText, let textCount):
                // Set by the first pass whenever a served payload has texts.
                let payloads = payloads.unsafelyUnwrapped
                let textOffset = Int32(payloads.textCount) - firstText
                renderer.write(texts: firstText, count: textCount, into: payloads)
                payload = .rendered(payloads, node: node, textOffset: textOffset)
            }
            return Decision(
                optimization: identity, outcome: .served(arm: tables.armNames[arm]), preparedPayload: payload,
                assignmentKey: assignmentKey)
        }
    }

    /// What `decide` concluded for one optimization; arms are indices in `tables.arms`.
    enum Verdict {
        case skipped(SkipReason)
        case control(arm: Int)
        case served(arm: Int)
    }

    func decide(_ index: Int, request: DecisionRequest, profile: ProfileView, visit: Visit) -> Verdict {
        let tables = self.tables
        // A copy of plain data: reading it retains nothing.
        let optimization = tables.optimizations[index]
        func skip(_ reason: SkipReason) -> Verdict { .skipped(reason) }
        if !optimization.isRequested(by: request) { return skip(.filtered) }
        switch optimization.status {
        case .draft: return skip(.draft)
        case .paused: return skip(.paused)
        case .running: break
        }
        guard visit.assignmentKey != nil else { return skip(.noIdentity) }
        let slot = visit.history[index]
        let sticky = slot.assignment.flatMap { position -> StickyAssignment? in
            let assignment = profile.assignments.values[position]
            return assignment.bucketVersion == optimization.bucketVersion ? assignment : nil
        }

        let arm: Int
        // Personalizations only: the visitor qualifies but sees the original page. (An experiment's unchanged
        // variant is served; its exposure says control.)
        var control = false
        let first = Int(optimization.firstArm)
        let end = first + Int(optimization.armCount)
        switch optimization.kind {
        case .personalization:
            switch firstAdmittedExperience(
                first..<end, of: index, request: request, profile: profile, visit: visit)
            {
            case .failure(let reason): return skip(reason)
            case .success(let experience): arm = experience
            }
            if let sticky {
                control = sticky.control
            } else {
                control = optimization.bucket(visit.assignmentKeyUnits) < optimization.controlShare
            }
        case .experiment:
            if optimization.audience >= 0,
                !visit.audiences.admits(optimization.audience, profile: profile, page: request.page)
            {
                return skip(.notTargeted)
            }
            if let sticky, let variant = (first..<end).first(where: { tables.armNames[$0] == sticky.arm }) {
                arm = variant
            } else {
                let share = optimization.bucket(visit.assignmentKeyUnits)
                // `Bucketing.chooseVariation` over this optimization's ranges.
                guard
                    let variant = (first..<end).first(where: { variant in
                        share >= tables.ranges[variant].lowerBound && share < tables.ranges[variant].upperBound
                    })
                else { return skip(.holdout) }
                arm = variant
            }
            let prepared = tables.arms[arm]
            if !prepared.devices.admits(request.device) { return skip(.device) }
            if prepared.schedule >= 0,
                !tables.schedules[Int(prepared.schedule)].admits(visit.now, timeZone: tables.timeZone)
            {
                return skip(.schedule)
            }
            if !admitsDisplay(arm, of: index, profile: profile, visit: visit) { return skip(.capped) }
        }

        return control ? .control(arm: arm) : .served(arm: arm)
    }

    /// The first experience, in priority order, that admits the visitor (its index in `tables.arms`); else the
    /// reason of the one that came closest (capped, then schedule, then device, then not targeted).
    func firstAdmittedExperience(
        _ experiences: Range<Int>, of index: Int, request: DecisionRequest, profile: ProfileView,
        visit: Visit
    ) -> Result<Int, SkipReason> {
        let tables = self.tables
        var closest = SkipReason.notTargeted
        func note(_ reason: SkipReason) {
            if Self.closeness(reason) > Self.closeness(closest) { closest = reason }
        }
        for arm in experiences {
            let prepared = tables.arms[arm]
            // No audience is "needs setup": never served (and `veneer check` says so).
            guard prepared.audience >= 0 else { continue }
            if !prepared.devices.admits(request.device) {
                note(.device)
                continue
            }
            if prepared.schedule >= 0,
                !tables.schedules[Int(prepared.schedule)].admits(visit.now, timeZone: tables.timeZone)
            {
                note(.schedule)
                continue
            }
            if !visit.audiences.admits(prepared.audience, profile: profile, page: request.page) { continue }
            if !admitsDisplay(arm, of: index, profile: profile, visit: visit) {
                note(.capped)
                continue
            }
            return .success(arm)
        }
        return .failure(closest)
    }

    /// The arm's display frequency against the exposure history of optimization `index` (read only when the
    /// frequency is not `always`).
    func admitsDisplay(_ arm: Int, of index: Int, profile: ProfileView, visit: Visit) -> Bool {
        let display = tables.arms[arm].display
        if case .always = display { return true }
        let history = visit.history[index].exposures.map { profile.exposures.values[$0] } ?? []
        return display.admits(
            arm: tables.armNames[arm], history: history, sessionId: visit.sessionId,
            nowMilliseconds: visit.nowMilliseconds)
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

/// One `choose` call's view of the visitor, built once per call and shared by every decision. The request
/// and profile are passed beside it rather than copied into it (a copy retains every field).
struct Visit {
    let now: Date
    let nowMilliseconds: Int64
    let sessionId: String
    let assignmentKey: String?
    /// The assignment key's UTF-16 code units, which bucketing hashes.
    let assignmentKeyUnits: UnsafeBufferPointer<UInt16>
    let audiences: AudienceEvaluator
    /// One slot per optimization, in the call's scratch memory.
    let history: UnsafeMutablePointer<HistorySlot>
}

/// Where one optimization's exposure history and sticky assignment sit in the profile view, if anywhere.
struct HistorySlot {
    var exposures: Dictionary<String, [ExposureRecord]>.Index?
    var assignment: Dictionary<String, StickyAssignment>.Index?
}
