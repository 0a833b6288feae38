import Foundation
import Testing
import VeneerCore

struct TemplatePayloadTests {
    /// The welcome-back payload of the seed's personalization guide
    /// (/work/shared/seeds/000_71d77f362bf43e73.txt, the JSON lines under "You would need to use this
    /// JSON payload"), wrapped in braces.
    static let welcomeBack = #"""
        {
          "body2": "Reignite your journey with us and make the\nmost of this limited-time offer.",
          "title": "🌟 Welcome Back Special! 🌟",
          "imageAlt": "Claim the offer",
          "imageSrc": "",
          "eventTitle": "Welcome back",
          "imageWidth": "241",
          "imageHeight": "184",
          "okButtonText": "Claim the offer",
          "okButtonType": "action",
          "preImageBody1": "Hey {{ attribute.user.first_name }}! We've missed you at Otto!\nTo welcome you back, we're offering an exclusive 30%\ndiscount on your monthly subscription.",
          "okButtonAction": "openSuccessDialog",
          "okButtonVariant": "primary",
          "successDialogBody1": "Success!\nThe discount is applied to your subscription",
          "successDialogBody2": "Your next month subscription will have a 30%\ndiscount applied",
          "successDialogTitle": "🌟 Welcome Back Special! 🌟",
          "successDialogImageAlt": "Welcome Back Special!",
          "successDialogImageSrc": "",
          "successDialogImageWidth": "157",
          "successDialogImageHeight": "157",
          "successDialogOkButtonText": "Continue",
          "successDialogOkButtonType": "action",
          "successDialogOkButtonAction": "closeDialog",
          "successDialogOkButtonVariant": "primary"
        }
        """#

    @Test func seedWelcomeBackPayloadSubstitutesTheFirstName() throws {
        let source = try JSONValue(jsonData: Data(Self.welcomeBack.utf8))
        let payload = try PayloadTemplate(source)
        #expect(!payload.isConstant)
        let rendered = payload.render(TemplateContext(user: ["first_name": "Ada"]))
        let expectedBody =
            "Hey Ada! We've missed you at Otto!\nTo welcome you back, we're offering an exclusive 30%\ndiscount on your monthly subscription."
        #expect(rendered["preImageBody1"] == .string(expectedBody))
        // Every other key comes back as it was: 22 untouched strings, keys unchanged.
        let sourceObject = try #require(source.objectValue)
        let renderedObject = try #require(rendered.objectValue)
        #expect(Set(renderedObject.keys) == Set(sourceObject.keys))
        #expect(sourceObject.count == 23)
        for (key, value) in sourceObject where key != "preImageBody1" {
            #expect(renderedObject[key] == value, "\(key)")
        }
        // Without the attribute the sentence still reads, with the name left out.
        let anonymous = payload.render(TemplateContext())
        #expect(anonymous["preImageBody1"]?.stringValue?.hasPrefix("Hey ! We've missed you") == true)
    }

    @Test func nestedStringsRenderAndEverythingElseStays() throws {
        let source: JSONValue = [
            "title": "Hi << attribute.user.first_name >>",
            "count": 3,
            "ratio": 0.25,
            "flag": true,
            "none": nil,
            "keys {{ attribute.user.first_name }}": "key stays",
            "changes": [
                ["selector": "#hero", "action": "inner", "html": "<b><< attribute.user.html >></b>"],
                ["selector": ".price", "action": "text", "text": "{{ payload.discount }}% off"],
            ],
            "matrix": [[1, "{{ visitor.device }}"], ["plain"]],
            "redirect": ["url": "/welcome?from=<< request.path | url >>", "status": 302],
        ]
        let payload = try PayloadTemplate(source)
        let rendered = payload.render(TemplateTestContext.full)
        let expected: JSONValue = [
            "title": "Hi Ada",
            "count": 3,
            "ratio": 0.25,
            "flag": true,
            "none": nil,
            "keys {{ attribute.user.first_name }}": "key stays",
            "changes": [
                // Payload mode inserts values as they are; the html template that uses them escapes.
                ["selector": "#hero", "action": "inner", "html": "<b><b>\"Tom\" & 'Jerry'</b></b>"],
                ["selector": ".price", "action": "text", "text": "30% off"],
            ],
            "matrix": [[1, "mobile"], ["plain"]],
            "redirect": ["url": "/welcome?from=%2Fpricing", "status": 302],
        ]
        #expect(rendered == expected)
        #expect(payload.source == source)
    }

    @Test func payloadWithoutSubstitutionsIsConstant() throws {
        let sources: [JSONValue] = [
            nil, 3, "text", "{{ cart.total }}", ["a": ["b": [1, 2, "c"]], "d": "e"], [],
        ]
        for source in sources {
            let payload = try PayloadTemplate(source)
            #expect(payload.isConstant, "\(source)")
            #expect(payload.render(TemplateTestContext.full) == source)
        }
        // An escaped opener changes the text, so that string is not constant.
        let escaped = try PayloadTemplate(["a": #"\<< not a tag"#])
        #expect(!escaped.isConstant)
        #expect(escaped.render(TemplateContext()) == ["a": "<< not a tag"])
    }

    @Test func renderedPayloadFeedsAnHTMLTemplate() throws {
        // DESIGN.md §3: payload strings render first, then the template with the rendered payload.
        let payload = try PayloadTemplate(["headline": "Welcome back, {{ attribute.user.first_name }} & friends"])
        let template = try Template(source: "<h1><< payload.headline >></h1>")
        var context = TemplateContext(user: ["first_name": "<Ada>"])
        context.payload = payload.render(context)
        #expect(template.render(context) == "<h1>Welcome back, &lt;Ada&gt; &amp; friends</h1>")
    }

    struct KeyPathCase: Sendable, CustomTestStringConvertible {
        let payload: JSONValue
        let keyPath: String
        let line: Int
        let column: Int
        var testDescription: String { keyPath.isEmpty ? "(root)" : keyPath }
    }

    static let keyPathCases: [KeyPathCase] = [
        .init(payload: "<< nope >>", keyPath: "", line: 1, column: 4),
        .init(payload: ["title": "Hey {{ attribute.first_name }}"], keyPath: "title", line: 1, column: 18),
        .init(
            payload: ["title": "ok", "changes": [["selector": "#a", "html": "<p>\n<< bad >>"]]],
            keyPath: "changes[0].html", line: 2, column: 4),
        .init(
            payload: ["changes": [["html": "fine"], ["html": "{{ payload.x | bold }}"]]], keyPath: "changes[1].html",
            line: 1, column: 16),
        .init(payload: ["odd key": ["x", "<<"]], keyPath: #"["odd key"][1]"#, line: 1, column: 1),
        .init(payload: ["a": ["b.c": ["x << attribute.zzz.q >>"]]], keyPath: #"a["b.c"][0]"#, line: 1, column: 16),
        .init(payload: [[[1, "<< visitor >>"]]], keyPath: "[0][0][1]", line: 1, column: 4),
        .init(
            payload: ["redirect": ["url": #"/x?<< request.query | default: "y" >>"#]], keyPath: "redirect.url", line: 1,
            column: 15),
    ]

    @Test(arguments: keyPathCases)
    func errorsCarryTheKeyPath(_ row: KeyPathCase) {
        do {
            _ = try PayloadTemplate(row.payload)
            Issue.record("expected a compile error")
        } catch {
            #expect(error.keyPath == row.keyPath)
            #expect(error.line == row.line)
            #expect(error.column == row.column)
            #expect(
                error.description.hasPrefix(
                    row.keyPath.isEmpty ? "\(row.line):" : "\(row.keyPath): \(row.line):\(row.column): "))
        }
    }

    @Test func firstErrorIsTheSameEveryTime() {
        let payload: JSONValue = ["b": "<< bad_b >>", "a": "<< bad_a >>", "c": "<< bad_c >>"]
        for _ in 0..<20 {
            do {
                _ = try PayloadTemplate(payload)
                Issue.record("expected a compile error")
            } catch {
                #expect(error.keyPath == "a")
            }
        }
    }
}
