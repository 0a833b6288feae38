/// Every audience of a configuration compiled once into one flat table of nodes. Equal audiences, and every
/// use of a segment, share one node, so a `choose` call evaluates each distinct audience at most once for
/// all its optimizations (`AudienceEvaluator` keeps one answer per node). Below the nodes, what a leaf reads
/// (an attribute path, a request field, an event summary) is a numbered fact, looked up once per call however
/// many leaves read it.
///
/// ```swift
/// var builder = AudienceProgram.Builder(segments: config.segments)
/// let root = builder.node(for: .attribute(path: ["user", "plan"], .equals("pro")))  // a node index
/// let program = builder.program()
/// ```
struct AudienceProgram: Sendable {
    /// A node: a leaf names its condition by index, so reading a node copies no reference.
    enum Node: Sendable {
        case everyone
        /// A segment that does not exist (or refers to itself): admits no one.
        case nobody
        /// An attribute or request condition: `conditions[index]`.
        case condition(Int32)
        /// `events[index]`.
        case event(Int32)
        /// Children are `children[start ..< start + count]`.
        case all(start: Int32, count: Int32)
        case any(start: Int32, count: Int32)
        case not(Int32)
    }

    /// What a leaf reads from the visitor or the request.
    enum Fact: Sendable, Hashable {
        /// `user.*` or `account.*`: the attribute named by `key` (nil when the path names none: missing), then
        /// `rest` into nested objects.
        case attribute(account: Bool, key: String?, rest: [String])
        case request(RequestField)
        case event(EventKey)

        init(attributePath path: [String]) {
            self = .attribute(
                account: path.first == "account", key: path.count >= 2 ? path[1] : nil, rest: Array(path.dropFirst(2)))
        }
    }

    /// A condition on the value of `facts[fact]`.
    struct ConditionLeaf: Sendable {
        let fact: Int32
        let condition: Condition
    }

    /// An event condition on the summary `facts[fact]`.
    struct EventLeaf: Sendable {
        let fact: Int32
        let atLeast: Int?
        let atMost: Int?
        let withinSeconds: Int64?
    }

    let nodes: PreparedTable<Node>
    let children: PreparedTable<Int32>
    let conditions: PreparedTable<ConditionLeaf>
    let events: PreparedTable<EventLeaf>
    let facts: PreparedTable<Fact>

    var nodeCount: Int { nodes.count }

    /// Only for `EngineTables.deinit`.
    func free() {
        nodes.free()
        children.free()
        conditions.free()
        events.free()
        facts.free()
    }

    /// Compiles audiences one by one, sharing nodes between equal audiences.
    struct Builder {
        private var nodes: [Node] = []
        private var children: [Int32] = []
        private var conditions: [ConditionLeaf] = []
        private var events: [EventLeaf] = []
        private var facts: [Fact] = []
        private var knownFacts: [Fact: Int32] = [:]
        private var known: [Audience: Int32] = [:]
        private let segments: [String: Audience]
        private var segmentNodes: [String: Int32] = [:]
        /// Segments being compiled: one met again refers to itself (the loader refuses that; `Engine(config:)`
        /// built by hand might not), and admits no one rather than recursing forever.
        private var compilingSegments: Set<String> = []

        init(segments: [Segment]) {
            self.segments = Dictionary(segments.map { ($0.name, $0.audience) }, uniquingKeysWith: { first, _ in first })
        }

        mutating func node(for audience: Audience) -> Int32 {
            if let existing = known[audience] { return existing }
            let node: Node
            switch audience {
            case .everyone:
                node = .everyone
            case .attribute(let path, let condition):
                conditions.append(ConditionLeaf(fact: fact(Fact(attributePath: path)), condition: condition))
                node = .condition(Int32(conditions.count - 1))
            case .request(let field, let condition):
                conditions.append(ConditionLeaf(fact: fact(.request(field)), condition: condition))
                node = .condition(Int32(conditions.count - 1))
            case .event(let condition):
                events.append(
                    EventLeaf(
                        fact: fact(.event(condition.key)), atLeast: condition.atLeast, atMost: condition.atMost,
                        withinSeconds: condition.withinSeconds))
                node = .event(Int32(events.count - 1))
            case .segment(let name):
                // A segment is its audience: every use shares that audience's node.
                let index = segmentNode(name)
                if segmentNodes[name] != nil { known[audience] = index }
                return index
            case .all(let members):
                let (start, count) = group(members)
                node = .all(start: start, count: count)
            case .any(let members):
                let (start, count) = group(members)
                node = .any(start: start, count: count)
            case .not(let inner):
                node = .not(self.node(for: inner))
            }
            nodes.append(node)
            let index = Int32(nodes.count - 1)
            known[audience] = index
            return index
        }

        private mutating func fact(_ fact: Fact) -> Int32 {
            if let existing = knownFacts[fact] { return existing }
            facts.append(fact)
            knownFacts[fact] = Int32(facts.count - 1)
            return Int32(facts.count - 1)
        }

        private mutating func segmentNode(_ name: String) -> Int32 {
            if let existing = segmentNodes[name] { return existing }
            guard let audience = segments[name], !compilingSegments.contains(name) else {
                nodes.append(.nobody)
                return Int32(nodes.count - 1)
            }
            compilingSegments.insert(name)
            let index = node(for: audience)
            compilingSegments.remove(name)
            segmentNodes[name] = index
            return index
        }

        /// Compiles the members first, then lays their indices side by side.
        private mutating func group(_ members: [Audience]) -> (Int32, Int32) {
            var indices: [Int32] = []
            indices.reserveCapacity(members.count)
            for member in members { indices.append(node(for: member)) }
            let start = Int32(children.count)
            children.append(contentsOf: indices)
            return (start, Int32(indices.count))
        }

        func program() -> AudienceProgram {
            AudienceProgram(
                nodes: PreparedTable(nodes), children: PreparedTable(children), conditions: PreparedTable(conditions),
                events: PreparedTable(events), facts: PreparedTable(facts))
        }
    }
}
