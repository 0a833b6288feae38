import Foundation

/// Everything `Engine` prepares once per configuration: optimizations and arms side by side, audiences
/// compiled to one node table, payloads to another, selectors indexed. Immutable after `init` and shared
/// by every copy of the engine; it owns the memory of its tables and frees it in `deinit`, which cannot run
/// while a `choose` call holds the engine.
final class EngineTables: Sendable {
    let optimizations: PreparedTable<PreparedOptimization>
    /// Holds the identities that `optimizations` name unowned.
    let identities: [OptimizationIdentity]
    let arms: PreparedTable<PreparedArm>
    let armNames: PreparedTable<String>
    let payloads: PreparedTable<PreparedPayload>
    /// Per arm: an experiment variant's bucket range scaled by coverage (an empty range for experiences).
    let ranges: PreparedTable<ClosedRange<Double>>
    let schedules: PreparedTable<Schedule>
    let audiences: AudienceProgram
    let selectors: SelectorIndex
    let payloadProgram: PayloadProgram
    let timeZone: TimeZone

    init(config: VeneerConfig) {
        var audiences = AudienceProgram.Builder(segments: config.segments)
        var payloadProgram = PayloadProgram.Builder()
        var optimizations: [PreparedOptimization] = []
        var identities: [OptimizationIdentity] = []
        var arms: [PreparedArm] = []
        var armNames: [String] = []
        var payloads: [PreparedPayload] = []
        var ranges: [ClosedRange<Double>] = []
        var schedules: [Schedule] = []
        for optimization in config.optimizations {
            let identity = OptimizationIdentity(
                name: optimization.name, selector: optimization.selector, group: optimization.group,
                kind: optimization.kind, bucketVersion: optimization.bucketVersion)
            identities.append(identity)
            optimizations.append(
                PreparedOptimization(optimization, identity: identity, firstArm: arms.count, audiences: &audiences))
            for arm in optimization.arms {
                arms.append(PreparedArm(arm, audiences: &audiences, schedules: &schedules))
                armNames.append(arm.name)
                payloads.append(payloadProgram.payload(for: arm))
            }
            if optimization.kind == .experiment {
                ranges.append(contentsOf: PreparedOptimization.ranges(of: optimization))
            } else {
                ranges.append(contentsOf: repeatElement(0...0, count: optimization.arms.count))
            }
        }
        self.optimizations = PreparedTable(optimizations)
        self.identities = identities
        self.arms = PreparedTable(arms)
        self.armNames = PreparedTable(armNames)
        self.payloads = PreparedTable(payloads)
        self.ranges = PreparedTable(ranges)
        self.schedules = PreparedTable(schedules)
        self.audiences = audiences.program()
        self.selectors = SelectorIndex(selectors: config.optimizations.map(\.selector))
        self.payloadProgram = payloadProgram.program()
        self.timeZone = config.project.timeZone
    }

    deinit {
        optimizations.free()
        arms.free()
        armNames.free()
        payloads.free()
        ranges.free()
        schedules.free()
        audiences.free()
        payloadProgram.free()
    }
}
