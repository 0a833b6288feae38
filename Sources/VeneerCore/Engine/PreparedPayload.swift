/// An arm's payload as the engine renders it: plain data naming a constant or a node of the configuration's
/// `PayloadProgram`.
enum PreparedPayload: Sendable {
    case none
    /// A payload without substitutions, returned as written: `PayloadProgram.constants[index]`.
    case constant(Int32)
    /// `PayloadProgram.nodes[node]`, whose strings with substitutions are `PayloadProgram.texts[firstText ..<
    /// firstText + textCount]` (a payload's texts are numbered one after another).
    case rendered(node: Int32, firstText: Int32, textCount: Int32)
}

/// Every payload of a configuration compiled once into flat tables of plain data. Every template path gets a
/// number, and so does every distinct substitution (same path, filters and escaping), so a `choose` call
/// resolves each path and renders each substitution once however many served decisions read it
/// (`PayloadRenderer`). Reading a node, a string or a cut copies no reference.
///
/// ```swift
/// var builder = PayloadProgram.Builder()
/// let payload = builder.payload(for: arm)  // .rendered(node:…) when a string has substitutions
/// let program = builder.program()
/// ```
struct PayloadProgram: Sendable {
    enum Node: Sendable {
        /// A subtree without templates: `constants[index]`.
        case constant(Int32)
        /// A string with substitutions: `texts[index]`.
        case text(Int32)
        /// Elements are the nodes `children[start ..< start + count]`.
        case array(start: Int32, count: Int32)
        /// `objects[index]`: each key with its value's node.
        case object(Int32)
    }

    /// A payload string: its literal runs end to end in `bytes`, and where each substitution falls between them.
    struct Text: Sendable {
        let literalStart: Int32
        let literalCount: Int32
        let cutStart: Int32
        let cutCount: Int32
    }

    struct Cut: Sendable {
        /// The substitution comes after this many of the string's literal bytes.
        let literalEnd: Int32
        /// `substitutions[index]`.
        let substitution: Int32
    }

    /// One substitution, its path numbered in `paths`.
    struct Substitution: Sendable, Hashable {
        let path: Int32
        let filters: [TemplateFilter]
        let escaping: Bool
    }

    let nodes: PreparedTable<Node>
    let children: PreparedTable<Int32>
    let objects: PreparedTable<[String: Int32]>
    /// `objects` with their keys sorted, as JSON text prints them, each key already written as `"key":`.
    let sortedObjects: PreparedTable<[(keyText: String, node: Int32)]>
    let constants: PreparedTable<JSONValue>
    /// `constants` as JSON text, printed once per configuration: the choose API copies them.
    let constantTexts: PreparedTable<String>
    let texts: PreparedTable<Text>
    let bytes: PreparedTable<UInt8>
    let cuts: PreparedTable<Cut>
    let paths: PreparedTable<TemplatePath>
    let substitutions: PreparedTable<Substitution>
    /// Whether any path reads `visitor.*`: only then does a call build the visitor facts.
    let readsVisitorFacts: Bool

    /// Only for `EngineTables.deinit`.
    func free() {
        nodes.free()
        children.free()
        objects.free()
        sortedObjects.free()
        constants.free()
        constantTexts.free()
        texts.free()
        bytes.free()
        cuts.free()
        paths.free()
        substitutions.free()
    }

    struct Builder {
        private var nodes: [Node] = []
        private var children: [Int32] = []
        private var objects: [[String: Int32]] = []
        private var constants: [JSONValue] = []
        private var texts: [Text] = []
        private var bytes: [UInt8] = []
        private var cuts: [Cut] = []
        private var paths: [TemplatePath] = []
        private var substitutions: [Substitution] = []
        private var knownPaths: [TemplatePath: Int32] = [:]
        private var knownSubstitutions: [Substitution: Int32] = [:]

        /// `arm`'s payload: its compiled template when it has substitutions, else the payload as written.
        mutating func payload(for arm: Arm) -> PreparedPayload {
            if let compiled = arm.compiledPayload, !compiled.isConstant {
                let firstText = texts.count
                let root = node(compiled.root)
                return .rendered(node: root, firstText: Int32(firstText), textCount: Int32(texts.count - firstText))
            }
            guard let payload = arm.payload else { return .none }
            constants.append(payload)
            return .constant(Int32(constants.count - 1))
        }

        private mutating func node(_ node: PayloadTemplate.Node) -> Int32 {
            let prepared: Node
            switch node {
            case .constant(let value):
                constants.append(value)
                prepared = .constant(Int32(constants.count - 1))
            case .template(let template):
                prepared = .text(text(template))
            case .array(let elements):
                var indices: [Int32] = []
                for element in elements { indices.append(self.node(element)) }
                prepared = .array(start: Int32(children.count), count: Int32(indices.count))
                children.append(contentsOf: indices)
            case .object(let entries):
                objects.append(entries.mapValues { self.node($0) })
                prepared = .object(Int32(objects.count - 1))
            }
            nodes.append(prepared)
            return Int32(nodes.count - 1)
        }

        private mutating func text(_ template: Template) -> Int32 {
            let literalStart = bytes.count
            let cutStart = cuts.count
            for segment in template.segments {
                switch segment {
                case .literal(let text):
                    bytes.append(contentsOf: text.utf8)
                case .substitution(let substitution):
                    cuts.append(
                        Cut(literalEnd: Int32(bytes.count - literalStart), substitution: slot(for: substitution)))
                }
            }
            texts.append(
                Text(
                    literalStart: Int32(literalStart), literalCount: Int32(bytes.count - literalStart),
                    cutStart: Int32(cutStart), cutCount: Int32(cuts.count - cutStart)))
            return Int32(texts.count - 1)
        }

        private mutating func slot(for substitution: Template.Substitution) -> Int32 {
            let path: Int32
            if let existing = knownPaths[substitution.path] {
                path = existing
            } else {
                paths.append(substitution.path)
                path = Int32(paths.count - 1)
                knownPaths[substitution.path] = path
            }
            let prepared = Substitution(path: path, filters: substitution.filters, escaping: substitution.escapesResult)
            if let existing = knownSubstitutions[prepared] { return existing }
            substitutions.append(prepared)
            knownSubstitutions[prepared] = Int32(substitutions.count - 1)
            return Int32(substitutions.count - 1)
        }

        func program() -> PayloadProgram {
            PayloadProgram(
                nodes: PreparedTable(nodes), children: PreparedTable(children), objects: PreparedTable(objects),
                sortedObjects: PreparedTable(
                    objects.map { object in
                        object.keys.sorted().map { key in
                            var keyText = ""
                            JSONValue.writeQuoted(key, into: &keyText)
                            return (keyText: keyText + ":", node: object[key]!)
                        }
                    }),
                constants: PreparedTable(constants), constantTexts: PreparedTable(constants.map { $0.jsonText() }),
                texts: PreparedTable(texts), bytes: PreparedTable(bytes),
                cuts: PreparedTable(cuts), paths: PreparedTable(paths), substitutions: PreparedTable(substitutions),
                readsVisitorFacts: paths.contains { if case .visitor = $0 { true } else { false } })
        }
    }
}

/// Renders the strings of one `choose` call's payloads. A template path is resolved, and a substitution
/// rendered, the first time a payload needs it; both are remembered in the call's scratch memory (a
/// substitution's text as a run of `rendered`), so a string costs the copies of its literals and runs into the
/// call's `RenderedPayloads`.
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

    let program: PayloadProgram
    /// One per path, initialized to `.unresolved` by the call that owns the memory.
    let values: UnsafeMutablePointer<Resolution>
    /// One per substitution, initialized to `Run(start: -1, count: 0)`.
    let runs: UnsafeMutablePointer<Run>
    /// `visitor.*`, built the first time a path reads it.
    private var visitorFacts: [String: JSONValue]?
    private var rendered: [UInt8] = []

    init(program: PayloadProgram, values: UnsafeMutablePointer<Resolution>, runs: UnsafeMutablePointer<Run>) {
        self.program = program
        self.values = values
        self.runs = runs
    }

    /// The bytes texts `first ..< first + count` (one payload's strings with substitutions) render to; their
    /// substitutions are rendered here the first time any text asks.
    mutating func byteCount(
        ofTexts first: Int32, count: Int32, request: DecisionRequest, profile: ProfileView
    ) -> Int {
        var total = 0
        for index in Int(first)..<Int(first + count) {
            let text = program.texts[index]
            total += Int(text.literalCount)
            for cut in Int(text.cutStart)..<Int(text.cutStart + text.cutCount) {
                total += Int(run(program.cuts[cut].substitution, request: request, profile: profile).count)
            }
        }
        return total
    }

    /// Appends texts `first ..< first + count` to `payloads`; `byteCount(ofTexts:)` rendered their substitutions.
    func write(texts first: Int32, count: Int32, into payloads: RenderedPayloads) {
        let runs = self.runs
        rendered.withUnsafeBufferPointer { rendered in
            for index in Int(first)..<Int(first + count) {
                let text = program.texts[index]
                let cuts = program.cuts.elements.baseAddress.unsafelyUnwrapped + Int(text.cutStart)
                var byteCount = Int(text.literalCount)
                for cut in 0..<Int(text.cutCount) { byteCount += Int(runs[Int(cuts[cut].substitution)].count) }
                let output = payloads.appendText(byteCount: byteCount)
                let literals = program.bytes.elements.baseAddress.unsafelyUnwrapped + Int(text.literalStart)
                var written = 0
                var literalStart = 0
                for cut in 0..<Int(text.cutCount) {
                    let literalEnd = Int(cuts[cut].literalEnd)
                    (output + written).copyMemory(from: literals + literalStart, byteCount: literalEnd - literalStart)
                    written += literalEnd - literalStart
                    literalStart = literalEnd
                    let run = runs[Int(cuts[cut].substitution)]
                    // An empty `rendered` has no base address; only empty runs point into it then.
                    if run.count > 0 {
                        (output + written).copyMemory(
                            from: rendered.baseAddress.unsafelyUnwrapped + Int(run.start), byteCount: Int(run.count))
                        written += Int(run.count)
                    }
                }
                (output + written).copyMemory(
                    from: literals + literalStart, byteCount: Int(text.literalCount) - literalStart)
            }
        }
    }

    /// The substitution's text, rendered into `rendered` the first time it is asked for.
    private mutating func run(_ substitution: Int32, request: DecisionRequest, profile: ProfileView) -> Run {
        let known = runs[Int(substitution)]
        if known.start >= 0 { return known }
        if rendered.capacity == 0 { rendered.reserveCapacity(256) }
        let start = rendered.count
        let prepared = program.substitutions[Int(substitution)]
        var value = self.value(prepared.path, request: request, profile: profile)
        for filter in prepared.filters { value = filter.apply(to: value) }
        Template.Substitution.append(value, escaping: prepared.escaping, into: &rendered)
        let run = Run(start: Int32(start), count: Int32(rendered.count - start))
        runs[Int(substitution)] = run
        return run
    }

    private mutating func value(_ slot: Int32, request: DecisionRequest, profile: ProfileView) -> JSONValue? {
        if case .resolved(let value) = values[Int(slot)] { return value }
        if program.readsVisitorFacts, visitorFacts == nil {
            visitorFacts = TemplateContext.visitorFacts(for: request)
        }
        // The payload itself is not in scope while its own strings render (`payload.*` is missing).
        let value = program.paths[Int(slot)].resolve(
            user: profile.userAttributes, account: profile.accountAttributes, payload: .null,
            visitor: visitorFacts ?? [:], request: request.page)
        values[Int(slot)] = .resolved(value)
        return value
    }
}
