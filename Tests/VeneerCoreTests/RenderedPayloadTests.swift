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
                var written = ""
                decision.writePayloadJSON(into: &written)
                #expect(written == expected.jsonText(), "written straight from the rendered strings")
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

    /// The proxy renders change templates over `TemplateContext(decision:)`, which reads `payload.*` in place;
    /// every path must give what it gives over the whole payload.
    @Test func pathsReadInPlaceEqualPathsReadFromTheWholePayload() throws {
        let engine = Fixture.engine([
            Fixture.personalization("p", experiences: [Fixture.experience("e", payload: Self.payload)]),
            Fixture.personalization("q", experiences: [Fixture.experience("e", payload: ["plain": ["a": [1, "x"]]])]),
            Fixture.experiment("x", variants: [("control", 100)]),
        ])
        let request = Fixture.request(user: "u1", device: .mobile, page: PageFacts(path: "/shop"))
        let result = engine.choose(
            request, profile: ProfileView(userAttributes: ["name": "Zoë, a name longer than fifteen bytes"]),
            now: Fixture.now)
        let paths = [
            "payload", "payload.title", "payload.short", "payload.list", "payload.list.0", "payload.list.1",
            "payload.list.2", "payload.list.2.deep", "payload.list.3", "payload.list.x", "payload.fixed",
            "payload.fixed.n", "payload.fixed.text", "payload.fixed.text.more", "payload.empty", "payload.missing",
            "payload.title.0", "payload.plain.a.1", "payload.plain.a.2", "payload.plain.b",
        ]
        var found = 0
        for decision in result.decisions {
            let inPlace = TemplateContext(decision: decision, request: request.page)
            let whole = TemplateContext(payload: decision.payload ?? .null, request: request.page)
            for path in paths {
                let template = try Template(source: "[<< \(path) >>]", mode: .payload)
                #expect(template.render(inPlace) == template.render(whole), "\(decision.selector) \(path)")
                if template.render(whole) != "[]" { found += 1 }
            }
            #expect(inPlace.payload == (decision.payload ?? .null))
        }
        // Paths that find something and paths that do not, or the comparison would prove little.
        #expect(found > 10 && found < paths.count * 2)
    }

    @Test func writtenPayloadsMatchTheirJSONTextWhateverHoldsThem() throws {
        let constant: JSONValue = ["b": [1, 2.5, true, JSONValue.null], "a": "quote \" and <tag> and \u{2028}"]
        let engine = Fixture.engine([
            Fixture.personalization("templated", experiences: [Fixture.experience("e", payload: Self.payload)]),
            Fixture.personalization("constant", experiences: [Fixture.experience("e", payload: constant)]),
        ])
        let request = Fixture.request(device: .desktop, page: PageFacts(path: "/"))
        let profile = ProfileView(userAttributes: ["name": .string("Ada \"<b>\"\n")])
        let result = engine.choose(request, profile: profile, now: Fixture.now)
        #expect(result.served.count == 2)
        for decision in result.decisions {
            var written = ""
            decision.writePayloadJSON(into: &written)
            #expect(written == (decision.payload ?? .null).jsonText())
        }
        for decision in [
            Decision(
                optimizationName: "n", selector: "n", group: nil, kind: .personalization, bucketVersion: 1,
                outcome: .skipped(.notTargeted)),
            Decision(
                optimizationName: "v", selector: "v", group: nil, kind: .personalization, bucketVersion: 1,
                outcome: .served(arm: "e"), payload: constant),
        ] {
            var written = ""
            decision.writePayloadJSON(into: &written)
            #expect(written == (decision.payload ?? .null).jsonText())
        }
    }
}
