/// An arm's payload as the engine renders it. Every template path of every payload gets a slot number when
/// the engine is built (`TemplateSlots`), so a `choose` call resolves each distinct path once however many
/// served decisions read it (`PayloadRenderer`).
enum PreparedPayload: Sendable {
    case none
    /// A payload without substitutions: returned as written.
    case constant(JSONValue)
    case rendered(Node)

    indirect enum Node: Sendable {
        /// A subtree without templates: returned as it is.
        case constant(JSONValue)
        case text(PreparedText)
        case array([Node])
        case object([String: Node])
    }

    /// Prepares `arm`'s payload: its compiled template when it has substitutions, else the payload as written.
    init(_ arm: Arm, slots: inout TemplateSlots) {
        if let compiled = arm.compiledPayload, !compiled.isConstant {
            self = .rendered(Self.node(compiled.root, slots: &slots))
        } else if let payload = arm.payload {
            self = .constant(payload)
        } else {
            self = .none
        }
    }

    private static func node(_ node: PayloadTemplate.Node, slots: inout TemplateSlots) -> Node {
        switch node {
        case .constant(let value): return .constant(value)
        case .template(let template): return .text(PreparedText(template, slots: &slots))
        case .array(let nodes): return .array(nodes.map { Self.node($0, slots: &slots) })
        case .object(let nodes): return .object(nodes.mapValues { Self.node($0, slots: &slots) })
        }
    }
}

/// A payload string: its literal runs end to end, and where each substitution falls between them. A
/// substitution is named by its slot in `TemplateSlots.substitutions`, so equal substitutions (same path,
/// filters and escaping) in any payload are rendered once per call.
struct PreparedText: Sendable {
    struct Cut: Sendable {
        /// The substitution comes after this many bytes of `literals`.
        let literalEnd: Int32
        let substitution: Int32
    }

    /// UTF-8 bytes of every literal run, in order.
    let literals: [UInt8]
    let cuts: [Cut]

    init(_ template: Template, slots: inout TemplateSlots) {
        var literals: [UInt8] = []
        var cuts: [Cut] = []
        for segment in template.segments {
            switch segment {
            case .literal(let text):
                literals.append(contentsOf: text.utf8)
            case .substitution(let substitution):
                cuts.append(Cut(literalEnd: Int32(literals.count), substitution: slots.slot(for: substitution)))
            }
        }
        self.literals = literals
        self.cuts = cuts
    }
}

/// One substitution of a payload string, its path numbered in `TemplateSlots.paths`.
struct PreparedSubstitution: Sendable, Hashable {
    let path: Int32
    let filters: [TemplateFilter]
    let escaping: Bool
}

/// Numbers the distinct template paths and substitutions of a configuration's payloads.
struct TemplateSlots {
    private(set) var paths: [TemplatePath] = []
    private(set) var substitutions: [PreparedSubstitution] = []
    private var knownPaths: [TemplatePath: Int32] = [:]
    private var knownSubstitutions: [PreparedSubstitution: Int32] = [:]

    /// Whether any path reads `visitor.*`: only then does a call build the visitor facts.
    var readsVisitorFacts: Bool {
        paths.contains { if case .visitor = $0 { true } else { false } }
    }

    mutating func slot(for substitution: Template.Substitution) -> Int32 {
        let path: Int32
        if let existing = knownPaths[substitution.path] {
            path = existing
        } else {
            paths.append(substitution.path)
            path = Int32(paths.count - 1)
            knownPaths[substitution.path] = path
        }
        let prepared = PreparedSubstitution(
            path: path, filters: substitution.filters, escaping: substitution.escapesResult)
        if let existing = knownSubstitutions[prepared] { return existing }
        substitutions.append(prepared)
        knownSubstitutions[prepared] = Int32(substitutions.count - 1)
        return Int32(substitutions.count - 1)
    }
}

/// Renders the payloads of one `choose` call. A template path is resolved, and a substitution rendered, the
/// first time a payload needs it; both are remembered in the call's scratch memory (a substitution's text
/// as a run of `rendered`), so a string costs its literal copies and one `String`.
struct PayloadRenderer {
    enum Resolution {
        case unresolved
        case resolved(JSONValue?)
    }

    /// Where a substitution's text sits in `rendered`; `start` -1 until rendered.
    struct Run {
        var start: Int32
        var count: Int32
    }

    let tables: EngineTables
    /// One per path, initialized to `.unresolved` by the call that owns the memory.
    let values: UnsafeMutablePointer<Resolution>
    /// One per substitution, initialized to `Run(start: -1, count: 0)`.
    let runs: UnsafeMutablePointer<Run>
    private var context: TemplateContext?
    private var rendered: [UInt8] = []

    init(tables: EngineTables, values: UnsafeMutablePointer<Resolution>, runs: UnsafeMutablePointer<Run>) {
        self.tables = tables
        self.values = values
        self.runs = runs
    }

    mutating func render(_ payload: PreparedPayload, request: DecisionRequest, profile: ProfileView) -> JSONValue? {
        switch payload {
        case .none: return nil
        case .constant(let value): return value
        case .rendered(let node): return render(node, request: request, profile: profile)
        }
    }

    private mutating func render(
        _ node: PreparedPayload.Node, request: DecisionRequest, profile: ProfileView
    )
        -> JSONValue
    {
        switch node {
        case .constant(let value): return value
        case .text(let text): return .string(render(text, request: request, profile: profile))
        case .array(let nodes): return .array(nodes.map { render($0, request: request, profile: profile) })
        case .object(let nodes): return .object(nodes.mapValues { render($0, request: request, profile: profile) })
        }
    }

    private mutating func render(_ text: PreparedText, request: DecisionRequest, profile: ProfileView) -> String {
        var count = text.literals.count
        for cut in text.cuts {
            count += Int(run(cut.substitution, request: request, profile: profile).count)
        }
        let runs = self.runs
        return text.literals.withUnsafeBufferPointer { literals in
            rendered.withUnsafeBufferPointer { rendered in
                String(unsafeUninitializedCapacity: count) { output in
                    var written = 0
                    var literalStart = 0
                    func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
                        guard !bytes.isEmpty else { return }
                        UnsafeMutableRawPointer(output.baseAddress.unsafelyUnwrapped + written).copyMemory(
                            from: bytes.baseAddress.unsafelyUnwrapped, byteCount: bytes.count)
                        written += bytes.count
                    }
                    for cut in text.cuts {
                        copy(UnsafeBufferPointer(rebasing: literals[literalStart..<Int(cut.literalEnd)]))
                        literalStart = Int(cut.literalEnd)
                        let run = runs[Int(cut.substitution)]
                        copy(UnsafeBufferPointer(rebasing: rendered[Int(run.start)..<Int(run.start + run.count)]))
                    }
                    copy(UnsafeBufferPointer(rebasing: literals[literalStart...]))
                    return written
                }
            }
        }
    }

    /// The substitution's text, rendered into `rendered` the first time it is asked for.
    private mutating func run(_ substitution: Int32, request: DecisionRequest, profile: ProfileView) -> Run {
        let known = runs[Int(substitution)]
        if known.start >= 0 { return known }
        if rendered.capacity == 0 { rendered.reserveCapacity(256) }
        let start = rendered.count
        let prepared = tables.substitutions[Int(substitution)]
        var value = self.value(prepared.path, request: request, profile: profile)
        for filter in prepared.filters { value = filter.apply(to: value) }
        Template.Substitution.append(value, escaping: prepared.escaping, into: &rendered)
        let run = Run(start: Int32(start), count: Int32(rendered.count - start))
        runs[Int(substitution)] = run
        return run
    }

    private mutating func value(_ slot: Int32, request: DecisionRequest, profile: ProfileView) -> JSONValue? {
        if case .resolved(let value) = values[Int(slot)] { return value }
        if context == nil {
            // The payload itself is not in scope while its own strings render (`payload.*` is missing).
            context = TemplateContext(
                user: profile.userAttributes, account: profile.accountAttributes, payload: .null,
                visitor: tables.readsVisitorFacts ? TemplateContext.visitorFacts(for: request) : [:],
                request: request.page)
        }
        let value = tables.templatePaths[Int(slot)].resolve(in: context!)
        values[Int(slot)] = .resolved(value)
        return value
    }
}
