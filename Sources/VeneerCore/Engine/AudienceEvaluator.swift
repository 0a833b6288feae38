/// Evaluates the configuration's compiled audiences for one visitor at one instant, and remembers each
/// node's answer for the rest of the `choose` call: an audience that many optimizations share (a segment, a
/// common condition) is evaluated once. Built once per call over scratch memory that the call owns.
struct AudienceEvaluator {
    let program: AudienceProgram
    /// One answer per node: 0 not asked yet, 1 refused, 2 admitted.
    let answers: UnsafeMutablePointer<UInt8>
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
        case .attribute(let leaf):
            return program.attributes[Int(leaf)].condition.evaluate(attribute(Int(leaf), profile: profile))
        case .request(let leaf):
            return program.requests[Int(leaf)].condition.evaluate(requestValue(program.requests[Int(leaf)].field, page))
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

    private func attribute(_ leaf: Int, profile: ProfileView) -> JSONValue? {
        guard let key = program.attributes[leaf].key else { return nil }
        let attributes = program.attributes[leaf].account ? profile.accountAttributes : profile.userAttributes
        guard var current = attributes[key] else { return nil }
        for component in program.attributes[leaf].rest {
            guard case .object(let object) = current, let next = object[component] else { return nil }
            current = next
        }
        return current
    }

    private func requestValue(_ field: RequestField, _ page: PageFacts) -> JSONValue? {
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

    private func admits(event leaf: Int, profile: ProfileView) -> Bool {
        let condition = program.events[leaf]
        let summary = profile.eventSummaries[condition.key]
        let count: Int
        if let window = condition.withinSeconds {
            count = summary?.count(since: nowMilliseconds - window * 1000) ?? 0
        } else {
            count = summary?.total ?? 0
        }
        if condition.atLeast == nil, condition.atMost == nil { return count >= 1 }
        if let atLeast = condition.atLeast, count < atLeast { return false }
        if let atMost = condition.atMost, count > atMost { return false }
        return true
    }
}
