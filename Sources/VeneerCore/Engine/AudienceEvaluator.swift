/// Evaluates audiences for one visitor at one instant. Built once per `choose` call.
struct AudienceEvaluator {
    let profile: ProfileView
    let page: PageFacts
    let nowMilliseconds: Int64
    let segments: [String: Audience]

    func admits(_ audience: Audience) -> Bool {
        switch audience {
        case .everyone:
            return true
        case .attribute(let path, let condition):
            return condition.evaluate(attribute(path))
        case .request(let field, let condition):
            return condition.evaluate(requestValue(field))
        case .event(let eventCondition):
            return admits(eventCondition)
        case .segment(let name):
            // A missing or cyclic segment is refused when the configuration loads.
            guard let segment = segments[name] else { return false }
            return admits(segment)
        // Loops rather than `allSatisfy(admits)`: passing the method as a closure copies the evaluator.
        case .all(let audiences):
            for audience in audiences where !admits(audience) { return false }
            return true
        case .any(let audiences):
            for audience in audiences where admits(audience) { return true }
            return false
        case .not(let audience):
            return !admits(audience)
        }
    }

    func attribute(_ path: [String]) -> JSONValue? {
        guard let root = path.first, path.count >= 2 else { return nil }
        let attributes = root == "account" ? profile.accountAttributes : profile.userAttributes
        guard let first = attributes[path[1]] else { return nil }
        if path.count == 2 { return first }
        return first.value(atPath: path.dropFirst(2).lazy.map { Substring($0) })
    }

    func requestValue(_ field: RequestField) -> JSONValue? {
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

    func admits(_ condition: EventCondition) -> Bool {
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
