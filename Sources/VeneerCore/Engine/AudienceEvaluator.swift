/// Evaluates the configuration's compiled audiences for one visitor at one instant, and remembers each
/// node's answer for the rest of the `choose` call: an audience that many optimizations share (a segment, a
/// common condition) is evaluated once, and each fact (an attribute, a request field, an event summary) is
/// looked up once. Built once per call over scratch memory that the call owns.
struct AudienceEvaluator {
    /// A fact once looked up.
    enum FactValue {
        case unknown
        case value(JSONValue?)
        case summary(EventSummary?)
    }

    let program: AudienceProgram
    /// One answer per node: 0 not asked yet, 1 refused, 2 admitted.
    let answers: UnsafeMutablePointer<UInt8>
    /// One per fact, initialized to `.unknown` by the call that owns the memory.
    let facts: UnsafeMutablePointer<FactValue>
    let nowMilliseconds: Int64

    func admits(_ node: Int32, profile: ProfileView, page: PageFacts) -> Bool {
        let answer = answers[Int(node)]
        if answer != 0 { return answer == 2 }
        let admitted = evaluate(node, profile: profile, page: page)
        answers[Int(node)] = admitted ? 2 : 1
        return admitted
    }

    private func evaluate(_ node: Int32, profile: ProfileView, page: PageFacts) -> Bool {
        switch program.nodes[Int(node)] {
        case .everyone:
            return true
        case .nobody:
            return false
        case .condition(let leaf):
            let value = self.value(of: Int(program.conditions[Int(leaf)].fact), profile: profile, page: page)
            return program.conditions[Int(leaf)].condition.evaluate(value)
        case .event(let leaf):
            return admits(event: Int(leaf), profile: profile)
        case .all(let start, let count):
            for offset in 0..<Int(count)
            where !admits(program.children[Int(start) + offset], profile: profile, page: page) {
                return false
            }
            return true
        case .any(let start, let count):
            for offset in 0..<Int(count)
            where admits(program.children[Int(start) + offset], profile: profile, page: page) {
                return true
            }
            return false
        case .not(let inner):
            return !admits(inner, profile: profile, page: page)
        }
    }

    /// An attribute's or a request field's value, looked up the first time a leaf asks.
    private func value(of fact: Int, profile: ProfileView, page: PageFacts) -> JSONValue? {
        if case .value(let value) = facts[fact] { return value }
        let value: JSONValue?
        switch program.facts[fact] {
        case .attribute(let account, let key, let rest):
            value = Self.attribute(
                key: key, rest: rest, in: account ? profile.accountAttributes : profile.userAttributes)
        case .request(let field):
            value = Self.requestValue(field, page)
        case .event:
            value = nil  // an event fact is read by `admits(event:)` only
        }
        facts[fact] = .value(value)
        return value
    }

    private static func attribute(key: String?, rest: [String], in attributes: [String: JSONValue]) -> JSONValue? {
        guard let key, var current = attributes[key] else { return nil }
        for component in rest {
            guard case .object(let object) = current, let next = object[component] else { return nil }
            current = next
        }
        return current
    }

    private static func requestValue(_ field: RequestField, _ page: PageFacts) -> JSONValue? {
        let text: String?
        switch field {
        case .path: text = page.path
        case .url: text = page.url
        case .query(let name): text = page.query[name]
        case .referrer: text = page.referrer
        case .header(let name): text = page.headers[name]
        case .cookie(let name): text = page.cookies[name]
        case .language: text = page.language
        case .country: text = page.country
        }
        return text.map(JSONValue.string)
    }

    /// The event summary of a fact, looked up the first time a leaf asks.
    private func summary(of fact: Int, profile: ProfileView) -> EventSummary? {
        if case .summary(let summary) = facts[fact] { return summary }
        var summary: EventSummary?
        if case .event(let key) = program.facts[fact] { summary = profile.eventSummaries[key] }
        facts[fact] = .summary(summary)
        return summary
    }

    private func admits(event leaf: Int, profile: ProfileView) -> Bool {
        let event = program.events[leaf]
        let summary = self.summary(of: Int(event.fact), profile: profile)
        let count: Int
        if let window = event.withinSeconds {
            count = summary?.count(since: nowMilliseconds - window * 1000) ?? 0
        } else {
            count = summary?.total ?? 0
        }
        if event.atLeast == nil, event.atMost == nil { return count >= 1 }
        if let atLeast = event.atLeast, count < atLeast { return false }
        if let atMost = event.atMost, count > atMost { return false }
        return true
    }
}
