import Foundation
import Testing

@testable import VeneerCore

/// The engine shares work between optimizations within a call (one answer per distinct audience, one value per
/// template path, one text per substitution, one pass over the visitor's history). Deciding an optimization
/// among many must give what deciding it alone gives.
struct EngineSharingTests {
    static let segments = [
        Segment(name: "buyers", audience: .event(EventCondition(event: "Purchase", atLeast: 1))),
        Segment(
            name: "loyal", audience: .all([.segment("buyers"), .attribute(path: ["user", "plan"], .equals("pro"))])),
    ]

    static let audiences: [Audience] = [
        .everyone,
        .segment("buyers"),
        .segment("loyal"),
        .not(.segment("loyal")),
        .attribute(path: ["user", "plan"], .equals("pro")),
        .attribute(path: ["user", "plan"], .equals("free")),
        .attribute(path: ["user", "address", "city"], .startsWith("Ber")),
        .attribute(path: ["account", "seats"], .greaterThan(5)),
        .request(.query("utm"), .equals("mail")),
        .request(.url, .contains("/shop/")),
        .request(.url, .matches(try! CompiledPattern("/checkout/[0-9]+$"))),
        .event(EventCondition(event: "View Page", atLeast: 3, withinSeconds: 86_400)),
        .event(EventCondition(event: "View Page", atMost: 1)),
        .any([.request(.path, .startsWith("/shop")), .segment("buyers")]),
        .all([.attribute(path: ["user", "plan"], .exists(true)), .not(.request(.header("x-beta"), .equals("1")))]),
        .segment("no-such-segment"),
    ]

    static let templates = [
        "Hi << attribute.user.name | default: \"there\" >>!",
        "<< attribute.user.name | upper >> on << visitor.device >>",
        "{{ request.query.utm }} / << attribute.account.seats >> / << attribute.user.name | default: \"there\" >>",
        "plain text",
    ]

    /// Personalizations and experiments over the shared audiences, payloads and histories.
    static func optimizations() -> [Optimization] {
        (0..<24).map { index in
            let payload: JSONValue = [
                "title": .string(templates[index % templates.count] + " #\(index)"),
                "items": [.string(templates[(index + 1) % templates.count]), 7],
                "fixed": ["n": .number(Double(index))],
            ]
            let compiled = try! PayloadTemplate(payload)
            if index % 3 == 2 {
                return Optimization(
                    name: "X\(index)", selector: "x-\(index)", group: "g\(index % 4)", kind: .experiment,
                    bucketVersion: index % 2 + 1, coveragePercent: 80, audience: audiences[index % audiences.count],
                    arms: [
                        Arm(name: "control", weight: 50),
                        Arm(
                            name: "green", weight: 50, display: index % 4 == 0 ? .once : .always, payload: payload,
                            compiledPayload: compiled),
                    ])
            }
            return Optimization(
                name: "P\(index)", selector: "p-\(index)", group: "g\(index % 4)", kind: .personalization,
                controlPercent: 20,
                arms: (0..<3).map { arm in
                    Arm(
                        name: "e\(arm)", audience: audiences[(index * 3 + arm) % audiences.count],
                        display: arm == 0 ? .oncePerVisit : (arm == 1 ? .cap(times: 2, per: .visit) : .always),
                        devices: arm == 2 ? .mobile : .all, payload: payload, compiledPayload: compiled)
                })
        }
    }

    static func visitors() -> [(DecisionRequest, ProfileView)] {
        var keys = Set<EventKey>()
        for audience in audiences + segments.map(\.audience) { keys.formUnion(audience.eventKeys) }
        var regular = ProfileView(
            userAttributes: ["name": "Ada", "plan": "pro", "address": ["city": "Berlin"]],
            accountAttributes: ["seats": 9])
        for hour in 0..<10 {
            regular.record(
                event: hour % 3 == 0 ? "Purchase" : "View Page", data: [:],
                timestamp: Fixture.nowMilliseconds - Int64(hour) * 3_600_000, keys: keys)
        }
        for index in stride(from: 0, to: 24, by: 2) {
            let selector = index % 3 == 2 ? "x-\(index)" : "p-\(index)"
            regular.record(
                exposure: Exposure(
                    selector: selector, optimizationName: "", group: nil,
                    kind: index % 3 == 2 ? .experiment : .personalization, arm: index % 3 == 2 ? "green" : "e0",
                    control: index % 4 == 0, bucketVersion: index % 5 == 0 ? 9 : index % 2 + 1, assignmentKey: "u1"),
                timestamp: Fixture.nowMilliseconds - 60_000, sessionId: index % 6 == 0 ? "s1" : nil)
        }
        // An exposure under a selector no optimization has any more.
        regular.record(
            exposure: Exposure(
                selector: "retired", optimizationName: "", group: nil, kind: .personalization, arm: "e0",
                control: false, bucketVersion: 1, assignmentKey: "u1"),
            timestamp: Fixture.nowMilliseconds, sessionId: "s1")
        let shopping = PageFacts(
            path: "/shop/shoes", url: "http://shop.test/shop/shoes?utm=mail", query: ["utm": "mail"],
            headers: ["x-beta": "1"])
        let checkout = PageFacts(path: "/checkout/12", url: "http://shop.test/checkout/12")
        return [
            (Fixture.request(user: "u1", device: .desktop, page: shopping), regular),
            (Fixture.request(user: "u1", device: .mobile, session: nil, page: checkout), regular),
            (Fixture.request(profile: "p7", page: shopping), ProfileView()),
            (Fixture.request(profile: "", user: nil, page: checkout), regular),
            (Fixture.request(user: "u2", names: ["p-0", "x-5"], groups: ["g3"], page: shopping), regular),
        ]
    }

    @Test func decidingTogetherEqualsDecidingAlone() {
        let optimizations = Self.optimizations()
        let together = Fixture.engine(optimizations, segments: Self.segments)
        var served = 0
        for (request, profile) in Self.visitors() {
            let result = together.choose(request, profile: profile, now: Fixture.now)
            #expect(result.decisions.count == optimizations.count)
            for (index, optimization) in optimizations.enumerated() {
                let alone = Fixture.engine([optimization], segments: Self.segments)
                    .choose(request, profile: profile, now: Fixture.now).decisions[0]
                let decision = result.decisions[index]
                #expect(decision.selector == optimization.selector)
                #expect(decision.outcome == alone.outcome, "\(optimization.selector) for \(request.identification)")
                #expect(decision.payload == alone.payload, "\(optimization.selector) payload")
                #expect(decision.assignmentKey == alone.assignmentKey)
                if decision.servedArm != nil { served += 1 }
            }
        }
        // The scenario must serve and skip, or it would prove little.
        #expect(served > 10 && served < Self.visitors().count * optimizations.count)
    }

    @Test func sharedSubstitutionsRenderPerVisitor() throws {
        let payload: JSONValue = ["a": "<< attribute.user.name | default: \"there\" >>", "b": "<< visitor.device >>"]
        let engine = Fixture.engine(
            (0..<3).map { Fixture.personalization("p\($0)", experiences: [Fixture.experience("e", payload: payload)]) })
        let named = ProfileView(userAttributes: ["name": "Ada"])
        let first = engine.choose(Fixture.request(device: .mobile), profile: named, now: Fixture.now)
        let second = engine.choose(Fixture.request(device: .desktop), profile: ProfileView(), now: Fixture.now)
        for decision in first.decisions { #expect(decision.payload == ["a": "Ada", "b": "mobile"]) }
        for decision in second.decisions { #expect(decision.payload == ["a": "there", "b": "desktop"]) }
    }

    /// The loader refuses such configurations; an engine built by hand must still not recurse forever.
    @Test func aSegmentsReferenceToItselfAdmitsNoOne() {
        let engine = Fixture.engine(
            [
                Fixture.personalization("p", experiences: [Fixture.experience("e", audience: .segment("loop"))]),
                Fixture.personalization("q", experiences: [Fixture.experience("e", audience: .segment("negated"))]),
            ],
            segments: [
                Segment(name: "loop", audience: .all([.everyone, .segment("loop")])),
                Segment(name: "negated", audience: .not(.segment("negated"))),
            ])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "p") == .skipped(.notTargeted))
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "q") == .served(arm: "e"))
    }

    /// Every table and scratch region empty: nothing to decide, nothing to read.
    @Test func emptyConfigurationsDecideNothing() {
        let empty = Fixture.engine([])
        #expect(empty.choose(Fixture.request(), profile: ProfileView(), now: Fixture.now).decisions.isEmpty)
        let bare = Fixture.engine([Fixture.personalization("p", experiences: [Arm(name: "e")])])
        let anonymous = Fixture.request(profile: "", user: nil)
        #expect(Fixture.outcome(bare, anonymous, selector: "p") == .skipped(.noIdentity))
        #expect(Fixture.outcome(bare, Fixture.request(), selector: "p") == .skipped(.notTargeted))
    }

    @Test func eventKeysAreComputedOnce() {
        var config = VeneerConfig(segments: Self.segments, optimizations: Self.optimizations())
        config.project.timeZone = TimeZone(identifier: "UTC")!
        let engine = Engine(config: config)
        #expect(engine.eventKeys == config.eventKeys)
        #expect(engine.eventKeys.contains(EventKey(event: "View Page")))
    }

    @Test func selectorIndexFindsEverySelector() {
        let selectors = (0..<300).map { "opt-\($0)" } + ["opt-7"]
        let index = SelectorIndex(selectors: selectors)
        for position in 0..<300 { #expect(index.first(of: "opt-\(position)") == Int32(position)) }
        #expect(index.next[7] == 300)
        #expect(index.next[300] == -1)
        #expect(index.first(of: "opt-300") == -1)
        #expect(index.first(of: "") == -1)
        // Non-ASCII keys and selectors go through String equality (é written precomposed and decomposed).
        let accented = SelectorIndex(selectors: ["caf\u{E9}", "tea"])
        #expect(accented.first(of: "cafe\u{301}") == 0)
        #expect(accented.first(of: "tea") == 1)
        #expect(index.first(of: "opt-\u{E9}") == -1)
    }

    @Test func asciiSearchAgreesWithFoundation() {
        let texts = ["http://shop.test/checkout/12", "checkout", "", "aaab", "café au lait", "x"]
        let needles = ["/checkout/", "checkout", "aab", "b", "é", "", "lait", "xx"]
        for text in texts {
            for needle in needles {
                let ascii = text.asciiContains(needle)
                if let ascii { #expect(ascii == text.contains(needle), "\(text) ∋ \(needle)") }
                let expectsAnswer =
                    !needle.isEmpty && text.utf8.allSatisfy { $0 < 0x80 } && needle.utf8.allSatisfy { $0 < 0x80 }
                #expect((ascii != nil) == expectsAnswer, "\(text) ∋ \(needle)")
            }
        }
    }

    @Test func decimalDigitHashMatchesTheStringHash() {
        let numbers: [UInt32] = [0, 7, 10, 99, 100, 1_000_000_000, 4_294_967_295, 123_456_789, 2_000_000_001]
        for number in numbers {
            #expect(Bucketing.fnv1a32(decimalDigitsOf: number) == Bucketing.fnv1a32(String(number)), "\(number)")
        }
    }
}
