/// What `Engine` prepares once per configuration for each optimization: the fields `choose` reads, laid out
/// side by side in `EngineTables.optimizations`. Plain data only: anything counted by reference lives in a
/// table of `EngineTables` and is named here by index or unowned reference, so reading or copying one costs
/// no retain.
struct PreparedOptimization: Sendable {
    /// Owned by `EngineTables.identities`.
    let identity: Unmanaged<OptimizationIdentity>
    let kind: Optimization.Kind
    let status: Optimization.Status
    let bucketVersion: Int
    /// The experiment's audience node in `EngineTables.audiences`, or -1 for none.
    let audience: Int32
    /// This optimization's arms in `EngineTables.arms` (and, for an experiment, their bucket ranges in
    /// `EngineTables.ranges`).
    let firstArm: Int32
    let armCount: Int32
    /// FNV-1a state after the seed (`selector:bucketVersion`): hash v2 then only continues over the assignment key.
    let seedState: UInt32
    /// Personalizations: the control percent as a share of 1.
    let controlShare: Double

    init(
        _ optimization: Optimization, identity: OptimizationIdentity, firstArm: Int,
        audiences: inout AudienceProgram.Builder
    ) {
        self.identity = Unmanaged.passUnretained(identity)
        kind = optimization.kind
        status = optimization.status
        bucketVersion = optimization.bucketVersion
        audience = optimization.audience.map { audiences.node(for: $0) } ?? -1
        self.firstArm = Int32(firstArm)
        armCount = Int32(optimization.arms.count)
        seedState = Bucketing.fnv1a32(
            Bucketing.seed(selector: optimization.selector, bucketVersion: optimization.bucketVersion))
        controlShare = optimization.controlPercent / 100
    }

    /// The bucket range of each variant of an experiment, scaled by coverage.
    static func ranges(of optimization: Optimization) -> [ClosedRange<Double>] {
        Bucketing.bucketRanges(
            count: optimization.arms.count, coverage: optimization.coveragePercent / 100,
            weights: optimization.arms.map { $0.weight / 100 })
    }

    /// Where the assignment key (its UTF-16 code units) falls, in `0..<1` (GrowthBook hash v2 with this optimization's seed).
    func bucket(_ assignmentKeyUnits: UnsafeBufferPointer<UInt16>) -> Double {
        Bucketing.hashVersion2(seedState: seedState, units: assignmentKeyUnits)
    }

    /// `names`/`groups`: omitted = all, `[]` = none, both given = either. `optimizationType` filters by kind.
    func isRequested(by request: DecisionRequest) -> Bool {
        if let kind = request.optimizationType, kind != self.kind { return false }
        if request.names == nil, request.groups == nil { return true }
        return identity._withUnsafeGuaranteedRef { identity in
            if let names = request.names, names.contains(identity.selector) { return true }
            if let groups = request.groups, let group = identity.group, groups.contains(group) { return true }
            return false
        }
    }
}

/// One experience or variant, prepared; plain data like `PreparedOptimization`. Its name and payload sit at
/// the same index in `EngineTables.armNames` and `EngineTables.payloads`.
struct PreparedArm: Sendable {
    /// The audience node in `EngineTables.audiences`, or -1 for none.
    let audience: Int32
    let display: DisplayFrequency
    let devices: DeviceFilter
    /// The schedule's index in `EngineTables.schedules`, or -1 for none.
    let schedule: Int32

    init(_ arm: Arm, audiences: inout AudienceProgram.Builder, schedules: inout [Schedule]) {
        audience = arm.audience.map { audiences.node(for: $0) } ?? -1
        display = arm.display
        devices = arm.devices
        if let schedule = arm.schedule {
            schedules.append(schedule)
            self.schedule = Int32(schedules.count - 1)
        } else {
            schedule = -1
        }
    }
}
