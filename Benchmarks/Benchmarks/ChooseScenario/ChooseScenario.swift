import Foundation
public import VeneerCore

/// The scenario of the `choose` benchmarks, shared with ChooseInstructions: 100 running optimizations with
/// mixed audiences and a visitor whose history holds 1,000 events.
///
/// ```swift
/// let scenario = ChooseScenario()
/// let result = scenario.engine.choose(scenario.request, profile: scenario.profile, now: scenario.now)
/// ```
public struct ChooseScenario: Sendable {
    public let engine: Engine
    public let request: DecisionRequest
    public let profile: ProfileView
    public let now = ISO8601Instant.parse("2026-11-25T12:00:00Z")!

    public init(distinctAudiences: Bool = false) {
        let nowMilliseconds: Int64 = 1_795_608_000_000
        let audiences: [Audience] = [
            .everyone,
            .attribute(path: ["user", "plan"], .equals("pro")),
            .request(.query("utm_source"), .equals("newsletter")),
            .event(EventCondition(event: "View Page", atLeast: 2, withinSeconds: 30 * 86_400)),
            .all([
                .event(
                    EventCondition(
                        event: "Purchase", atLeast: 1, withinSeconds: 90 * 86_400,
                        filter: EventFilter(property: "amount", condition: .greaterThan(50)))),
                .attribute(path: ["user", "first_name"], .exists(true)),
            ]),
            .any([
                .request(.path, .startsWith("/shop")), .attribute(path: ["account", "seats"], .greaterThanOrEqual(10)),
            ]),
            .not(.segment("big-spenders")),
            .request(.header("x-plan"), .isIn(["beta", "alpha"])),
            // Audiences this visitor does not meet, so the mix serves about half.
            .attribute(path: ["user", "plan"], .equals("enterprise")),
            .request(.query("utm_source"), .equals("ads")),
            .all([.request(.country, .equals("US")), .attribute(path: ["user", "first_name"], .exists(true))]),
            .event(EventCondition(event: "Purchase", atMost: 0)),
            .request(.url, .matches(try! CompiledPattern("/checkout/[0-9]+$"))),
            .any([.attribute(path: ["account", "seats"], .greaterThan(100)), .request(.language, .startsWith("fr"))]),
            .not(.everyone),
        ]
        // One of six kinds of audience, its constants unique to `tag` (the visitor meets about half).
        func distinct(_ tag: Int) -> Audience {
            switch tag % 6 {
            case 0: return .attribute(path: ["user", "plan"], .isIn(["pro", .string("x\(tag)")]))
            case 1: return .request(.query("utm_source"), .isIn(["newsletter", .string("x\(tag)")]))
            case 2:
                return .event(
                    EventCondition(event: "View Page", atLeast: 2 + tag % 3, withinSeconds: Int64(30 * 86_400 + tag)))
            case 3:
                return .all([
                    .attribute(path: ["user", "first_name"], .isIn(["Ada", .string("x\(tag)")])),
                    .request(.path, .startsWith("/shop/\(tag)")),
                ])
            case 4:
                return .any([
                    .request(.header("x-plan"), .isIn(["alpha", .string("x\(tag)")])),
                    .attribute(path: ["account", "seats"], .greaterThan(Double(50 + tag))),
                ])
            default: return .not(.event(EventCondition(event: "Purchase", atLeast: 3 + tag)))
            }
        }
        var optimizations: [Optimization] = []
        for index in 0..<100 {
            let payload: JSONValue = [
                "title": .string("Hello << attribute.user.first_name | default: \"friend\" >> #\(index)"),
                "changes": [["selector": "#hero", "action": "inner", "html": "<b>Hi</b>"]],
            ]
            if index % 2 == 0 {
                optimizations.append(
                    Optimization(
                        name: "P\(index)", selector: "p-\(index)", group: "g\(index % 5)", kind: .personalization,
                        controlPercent: 5,
                        arms: (0..<3).map { arm in
                            Arm(
                                name: "e\(arm)",
                                audience: distinctAudiences
                                    ? distinct(index * 3 + arm) : audiences[(index + arm) % audiences.count],
                                display: arm == 0 ? .oncePerVisit : .always, payload: payload,
                                compiledPayload: try! PayloadTemplate(payload))
                        }))
            } else {
                optimizations.append(
                    Optimization(
                        name: "X\(index)", selector: "x-\(index)", kind: .experiment, coveragePercent: 90,
                        audience: distinctAudiences ? distinct(index * 3) : audiences[index % audiences.count],
                        arms: [
                            Arm(name: "control", weight: 50),
                            Arm(
                                name: "green", weight: 50, payload: payload,
                                compiledPayload: try! PayloadTemplate(payload)),
                        ]))
            }
        }
        let segments = [Segment(name: "big-spenders", audience: .event(EventCondition(event: "Purchase", atLeast: 3)))]
        let config = VeneerConfig(segments: segments, optimizations: optimizations)
        engine = Engine(config: config)
        var keys = Set<EventKey>()
        func collect(_ audience: Audience) {
            switch audience {
            case .event(let condition): keys.insert(condition.key)
            case .all(let list), .any(let list): list.forEach(collect)
            case .not(let inner): collect(inner)
            default: break
            }
        }
        audiences.forEach(collect)
        (0..<300).map(distinct).forEach(collect)
        segments.forEach { collect($0.audience) }
        var view = ProfileView(userAttributes: ["first_name": "Ada", "plan": "pro"], accountAttributes: ["seats": 12])
        let names = ["View Page", "Purchase", "Add to cart", "Session start"]
        for event in 0..<1_000 {
            view.record(
                event: names[event % names.count], data: ["amount": .number(Double(event % 120))],
                timestamp: nowMilliseconds - Int64(event) * 3_600_000, keys: keys)
        }
        for index in stride(from: 0, to: 100, by: 7) {
            view.record(
                exposure: Exposure(
                    selector: "p-\(index)", optimizationName: "P", group: nil, kind: .personalization,
                    arm: "e0", control: false, bucketVersion: 1, assignmentKey: "u1"),
                timestamp: nowMilliseconds - 60_000, sessionId: "s1")
        }
        profile = view
        request = DecisionRequest(
            identification: .init(sourceId: "1", profileId: "p1", userId: "u1"), device: .desktop, sessionId: "s1",
            page: PageFacts(
                path: "/shop/shoes", url: "http://shop.test/shop/shoes?utm_source=newsletter",
                query: ["utm_source": "newsletter"], headers: ["x-plan": "beta"]))
    }
}
