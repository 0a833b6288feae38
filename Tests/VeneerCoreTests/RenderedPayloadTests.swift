import Foundation
import Testing

@testable import VeneerCore

/// `choose` keeps a call's rendered payload strings in one buffer and builds each payload's `JSONValue` when
/// it is read. What a decision reads must be what the template renders, however the strings are held.
struct RenderedPayloadTests {
    static let payload: JSONValue = [
        "title": "Welcome back, << attribute.user.name | default: \"friend\" >>! Here is 30% off.",
        "short": "<< attribute.user.name >>",
        "list": ["<< visitor.device >>", 3, ["deep": "{{ request.path }}: << attribute.user.name | upper >>"]],
        "fixed": ["n": 1, "text": "no substitution"],
        "empty": "<< attribute.user.missing >>",
    ]

    static func context(_ profile: ProfileView, _ request: DecisionRequest) -> TemplateContext {
        TemplateContext(
            user: profile.userAttributes, account: profile.accountAttributes,
            visitor: TemplateContext.visitorFacts(for: request), request: request.page)
    }

    @Test func servedPayloadsEqualTheTemplateRendering() throws {
        let template = try PayloadTemplate(Self.payload)
        let engine = Fixture.engine(
            (0..<4).map {
                Fixture.personalization("p\($0)", experiences: [Fixture.experience("e", payload: Self.payload)])
            })
        let request = Fixture.request(device: .mobile, page: PageFacts(path: "/shop"))
        for name in ["Ada", "Zoë <\"Łukasz\"> ✓ with a name longer than fifteen bytes", ""] {
            let profile = ProfileView(userAttributes: name.isEmpty ? [:] : ["name": .string(name)])
            let expected = template.render(Self.context(profile, request))
            let result = engine.choose(request, profile: profile, now: Fixture.now)
            #expect(result.served.count == 4)
            for decision in result.decisions {
                #expect(decision.payload == expected)
                #expect(decision.payload?.jsonText() == expected.jsonText())
            }
        }
    }

    @Test func payloadsOutliveTheEngineAndTheirResult() throws {
        var decision: Decision?
        do {
            let engine = Fixture.engine([
                Fixture.personalization("p", experiences: [Fixture.experience("e", payload: Self.payload)])
            ])
            decision =
                engine.choose(
                    Fixture.request(), profile: ProfileView(userAttributes: ["name": "Ada"]), now: Fixture.now
                ).decisions.first
        }
        let payload = try #require(decision?.payload)
        #expect(payload["title"] == "Welcome back, Ada! Here is 30% off.")
        #expect(payload["list"]?.arrayValue?[2]["deep"] == "/: ADA")
    }

    @Test func changedDecisionsKeepWhatWasSet() throws {
        let engine = Fixture.engine([
            Fixture.personalization("p", experiences: [Fixture.experience("e", payload: Self.payload)]),
            Fixture.personalization("q", experiences: [Fixture.experience("e", payload: ["plain": true])]),
        ])
        let result = engine.choose(
            Fixture.request(), profile: ProfileView(userAttributes: ["name": "Ada"]), now: Fixture.now)
        var changed = result.decisions[0]
        let rendered = try #require(changed.payload)
        changed.optimization = result.decisions[1].optimization
        #expect(changed.payload == rendered)
        #expect(changed.selector == "q")
        changed.payload = ["replaced": 1]
        #expect(changed.payload == ["replaced": 1])
        #expect(changed != result.decisions[0])
        #expect(result.decisions[0].payload == rendered)
    }
}
