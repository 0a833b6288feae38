/// What `Engine` prepares once per configuration for each optimization: the fields `choose` reads, held by
/// reference so a call copies no model structs (copies cost retains; measured as a third of `choose`).
final class PreparedOptimization: Sendable {
    let identity: OptimizationIdentity
    let name: String
    let selector: String
    let group: String?
    let kind: Optimization.Kind
    let status: Optimization.Status
    let bucketVersion: Int
    let audience: Audience?
    let arms: [PreparedArm]
    /// FNV-1a state after the seed (`selector:bucketVersion`): hash v2 then only continues over the assignment key.
    let seedState: UInt32
    /// Personalizations: the control percent as a share of 1.
    let controlShare: Double
    /// Experiments: the bucket range of each variant, scaled by coverage.
    let ranges: [ClosedRange<Double>]

    init(_ optimization: Optimization) {
        identity = OptimizationIdentity(
            name: optimization.name, selector: optimization.selector, group: optimization.group, kind: optimization.kind,
            bucketVersion: optimization.bucketVersion)
        name = optimization.name
        selector = optimization.selector
        group = optimization.group
        kind = optimization.kind
        status = optimization.status
        bucketVersion = optimization.bucketVersion
        audience = optimization.audience
        arms = optimization.arms.map(PreparedArm.init)
        seedState = Bucketing.fnv1a32(
            Bucketing.seed(selector: optimization.selector, bucketVersion: optimization.bucketVersion))
        controlShare = optimization.controlPercent / 100
        if optimization.kind == .experiment {
            ranges = Bucketing.bucketRanges(
                count: optimization.arms.count, coverage: optimization.coveragePercent / 100,
                weights: optimization.arms.map { $0.weight / 100 })
        } else {
            ranges = []
        }
    }

    /// Where the assignment key falls, in `0..<1` (GrowthBook hash v2 with this optimization's seed).
    func bucket(_ assignmentKey: String) -> Double {
        Bucketing.hashVersion2(seedState: seedState, value: assignmentKey)
    }

    /// `names`/`groups`: omitted = all, `[]` = none, both given = either. `optimizationType` filters by kind.
    func isRequested(by request: DecisionRequest) -> Bool {
        if let kind = request.optimizationType, kind != self.kind { return false }
        if request.names == nil, request.groups == nil { return true }
        if let names = request.names, names.contains(selector) { return true }
        if let groups = request.groups, let group, groups.contains(group) { return true }
        return false
    }
}

/// One experience or variant, prepared.
final class PreparedArm: Sendable {
    let name: String
    let audience: Audience?
    let display: DisplayFrequency
    let devices: DeviceFilter
    let schedule: Schedule?
    let payload: JSONValue?
    /// nil when the payload has no substitutions: it is returned as written.
    let compiledPayload: PayloadTemplate?

    init(_ arm: Arm) {
        name = arm.name
        audience = arm.audience
        display = arm.display
        devices = arm.devices
        schedule = arm.schedule
        payload = arm.payload
        compiledPayload = arm.compiledPayload.flatMap { $0.isConstant ? nil : $0 }
    }

    func renderPayload(_ context: TemplateContext) -> JSONValue? {
        compiledPayload.map { $0.render(context) } ?? payload
    }
}
