import Foundation
import Testing

@testable import VeneerCore

/// One expected diagnostic: its line, key path and a fragment of its message.
struct ExpectedDiagnostic: Sendable, CustomStringConvertible {
    var line: Int?
    var keyPath: String
    var message: String

    init(_ line: Int?, _ keyPath: String, _ message: String) {
        self.line = line
        self.keyPath = keyPath
        self.message = message
    }

    var description: String { "\(line.map(String.init) ?? "-"): \(keyPath): …\(message)…" }
}

struct InvalidConfigCase: Sendable, CustomTestStringConvertible {
    var file: String
    var expected: [ExpectedDiagnostic]
    var environment: [String: String] = ConfigFixtures.environment

    var testDescription: String { file }
}

@Suite("Config: every veneer check error, one fixture each")
struct ConfigCheckTests {
    static let experience = "personalization[0].experience[0]"

    static let cases: [InvalidConfigCase] = [
        InvalidConfigCase(
            file: "needs-setup.conf",
            expected: [
                .init(
                    8, experience,
                    "needs setup: experience \"First\" of running personalization \"Welcome back\" has no audience, so it is never served; add `audience = \"everyone\"`"
                )
            ]),
        InvalidConfigCase(
            file: "no-primary-metric.conf",
            expected: [
                .init(4, "personalization[0]", "no primary metric; add metrics = { primary = \"Purchase\" }"),
                .init(13, "experiment[0].metrics", "no primary metric"),
            ]),
        InvalidConfigCase(
            file: "duplicate-selector.conf",
            expected: [
                .init(
                    15, "experiment[0].selector",
                    "duplicate selector \"welcome-back\": personalization[0] (line 4) has it too")
            ]),
        InvalidConfigCase(
            file: "bad-selector.conf",
            expected: [
                .init(7, "personalization[0].selector", "selector \"welcome back!\" is outside ^[a-zA-Z0-9_-]+$"),
                .init(8, "personalization[0].group", "group \"banner/top\" is outside ^[a-zA-Z0-9_-]+$"),
            ]),
        InvalidConfigCase(
            file: "weights.conf",
            expected: [
                .init(8, "experiment[0].variant", "variant weights sum to 90 (50 + 40), not 100")
            ]),
        InvalidConfigCase(
            file: "control-coverage.conf",
            expected: [
                .init(7, "personalization[0].control", "control 120 is outside 0–100"),
                .init(15, "experiment[0].coverage", "coverage -5 is outside 0–100"),
            ]),
        InvalidConfigCase(
            file: "display-mode.conf",
            expected: [
                .init(
                    29, "personalization[2].experience[0].display",
                    "unknown display mode \"sometimes\"; allowed: always, once, once-per-visit, { times = N, per = \"day\" | \"7d\" | \"visit\" }"
                )
            ]),
        InvalidConfigCase(
            file: "device.conf",
            expected: [
                .init(11, experience + ".devices", "unknown device \"tablet\"; allowed: all, mobile, desktop")
            ]),
        InvalidConfigCase(
            file: "action.conf",
            expected: [
                .init(11, experience + ".payload.changes[0].action", "unknown action \"explode\"")
            ]),
        InvalidConfigCase(
            file: "duration.conf",
            expected: [
                .init(5, "visitor.session_idle", "invalid duration \"30 minutes\"; use a number and a unit"),
                .init(8, "decision.budget", "invalid duration: expected a string such as \"2s\", found an integer"),
            ]),
        InvalidConfigCase(
            file: "date.conf",
            expected: [
                .init(11, experience + ".schedule.start", "invalid date \"next tuesday\"; use an ISO-8601 instant"),
                .init(11, experience + ".schedule.days[1]", "unknown day \"funday\"; allowed: mon, tue"),
                .init(11, experience + ".schedule.hours", "invalid time window \"9-18\"; write \"HH:MM-HH:MM\""),
            ]),
        InvalidConfigCase(
            file: "time-zone.conf",
            expected: [
                .init(2, "project.time_zone", "unknown time zone \"Mars/Olympus\"; use an IANA name")
            ]),
        InvalidConfigCase(
            file: "regex.conf",
            expected: [
                .init(10, experience + ".audience.matches", "unparseable regex \"([a-z\"")
            ]),
        InvalidConfigCase(
            file: "css-selector.conf",
            expected: [
                .init(11, experience + ".payload.changes[0].selector", "invalid selector \"div[\"")
            ]),
        InvalidConfigCase(
            file: "template-inline.conf",
            expected: [
                .init(11, experience + ".payload.changes[0].html", "template error: unknown filter \"shout\"")
            ]),
        InvalidConfigCase(
            file: "template-payload.conf",
            expected: [
                .init(11, experience + ".payload.title", "template error:")
            ]),
        InvalidConfigCase(
            file: "template-file.conf",
            expected: [
                .init(3, experience + ".template", "template error: unknown filter \"shout\"")
            ]),
        InvalidConfigCase(
            file: "template-missing.conf",
            expected: [
                .init(11, experience + ".payload.changes[0].template", "templates/nope.html does not exist")
            ]),
        InvalidConfigCase(
            file: "segment-missing.conf",
            expected: [
                .init(
                    14, experience + ".audience.segment",
                    "segment \"big-spender\" does not exist; did you mean \"big-spenders\"?")
            ]),
        InvalidConfigCase(
            file: "segment-self.conf",
            expected: [
                .init(6, "segment[0].audience.any[0].segment", "segment \"loop\" refers to itself")
            ]),
        InvalidConfigCase(
            file: "segment-cycle.conf",
            expected: [
                .init(
                    14, "segment[2].audience.all[0].segment",
                    "segment \"c\" refers to itself through a cycle: a → b → c → a")
            ]),
        InvalidConfigCase(
            file: "redirect-host.conf",
            expected: [
                .init(
                    14, experience + ".payload.redirect.url",
                    "redirect to host \"evil.example.net\" is not in [redirects] allow_hosts (allowed: shop.example.com)"
                )
            ]),
        InvalidConfigCase(
            file: "api-key-empty.conf",
            expected: [
                .init(6, "api_key[0].secret", "API key with an empty secret"),
                .init(10, "api_key[1].secret", "API key with an empty secret (VENEER_EMPTY is set but empty)"),
                .init(14, "api_key[2].secret", "environment variable VENEER_UNSET is not set"),
            ],
            environment: ["VENEER_EMPTY": ""]
        ),
        InvalidConfigCase(
            file: "syntax.conf",
            expected: [
                .init(5, "", "TOML syntax error")
            ]),
        InvalidConfigCase(
            file: "unknown-key.conf",
            expected: [
                .init(11, experience + ".dispaly", "unknown key \"dispaly\"; did you mean \"display\"?"),
                .init(13, "sever", "unknown key \"sever\"; did you mean \"server\"?"),
            ]),
        InvalidConfigCase(
            file: "operands.conf",
            expected: [
                .init(10, experience + ".audience.all[0].gt", "gt needs a number; found a string"),
                .init(10, experience + ".audience.all[1].in", "in needs a list"),
                .init(
                    10, experience + ".audience.all[2].before",
                    "before needs an ISO-8601 instant such as \"2026-11-01T00:00:00Z\"; found \"yesterday\""),
                .init(10, experience + ".audience.all[3].exists", "exists needs true or false"),
                .init(
                    10, experience + ".audience.all[4].attribute",
                    "unknown attribute \"plan\"; allowed: user.NAME or account.NAME"),
                .init(10, experience + ".audience.all[5].request", "unknown request field \"body\""),
            ]),
        InvalidConfigCase(
            file: "files.conf",
            expected: [
                .init(2, "origin.url", "no-such-folder does not exist"),
                .init(11, experience + ".payload_file", "payloads/missing.json does not exist"),
            ]),
        InvalidConfigCase(
            file: "many-errors.conf",
            expected: [
                .init(3, "origin.timeout", "invalid duration \"soon\""),
                .init(12, experience + ".display", "unknown display mode \"sometimes\""),
                .init(13, experience + ".devices", "unknown device \"watch\""),
                .init(15, "experiment[0].selector", "duplicate selector \"welcome-back\""),
                .init(19, "experiment[0].variant", "variant weights sum to 120"),
                .init(22, "experiment[0].variant[0].colour", "unknown key \"colour\""),
            ]),
    ]

    @Test(arguments: cases)
    func reportsEveryProblemWithLineAndKeyPath(_ testCase: InvalidConfigCase) {
        let diagnostics = ConfigFixtures.diagnostics("invalid/" + testCase.file, environment: testCase.environment)
        #expect(
            diagnostics.count == testCase.expected.count,
            "expected \(testCase.expected.count) diagnostics, got:\n\(diagnostics.map(\.description).joined(separator: "\n"))"
        )
        for (diagnostic, expected) in zip(diagnostics, testCase.expected) {
            #expect(diagnostic.line == expected.line, "\(diagnostic) — expected \(expected)")
            #expect(diagnostic.keyPath == expected.keyPath, "\(diagnostic) — expected \(expected)")
            #expect(diagnostic.message.contains(expected.message), "\(diagnostic) — expected \(expected)")
        }
    }

    @Test func descriptionNamesFileLineKeyPathAndWhatIsAllowed() throws {
        let diagnostic = try #require(ConfigFixtures.diagnostics("invalid/display-mode.conf").first)
        #expect(diagnostic.file.hasSuffix("invalid/display-mode.conf"))
        #expect(
            diagnostic.description
                == "\(diagnostic.file):29: personalization[2].experience[0].display: unknown display mode \"sometimes\"; allowed: always, once, once-per-visit, { times = N, per = \"day\" | \"7d\" | \"visit\" }"
        )
    }

    @Test func syntaxErrorsCarryTOMLKitsLineAndColumn() throws {
        let diagnostic = try #require(ConfigFixtures.diagnostics("invalid/syntax.conf").first)
        #expect(diagnostic.line == 5)
        let column = try #require(diagnostic.column)
        #expect(column > 1)
        #expect(diagnostic.description.contains("syntax.conf:5:\(column): TOML syntax error"))
    }

    /// The template's own column is moved into proxy.conf: the diagnostic points at `shout` on its line.
    @Test func inlineTemplateErrorsPointIntoTheFile() throws {
        let path = ConfigFixtures.directory + "/invalid/template-inline.conf"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let line = String(lines[10])
        let expectedColumn =
            line.distance(from: line.startIndex, to: try #require(line.range(of: "shout")).lowerBound) + 1
        let diagnostic = try #require(ConfigFixtures.diagnostics("invalid/template-inline.conf").first)
        #expect(diagnostic.column == expectedColumn)
    }

    /// `div[` fails at its end: the column points just past `[` inside the quoted selector.
    @Test func selectorErrorsPointIntoTheFile() throws {
        let diagnostic = try #require(ConfigFixtures.diagnostics("invalid/css-selector.conf").first)
        let line = "  payload = { changes = [ { selector = \"div[\", action = \"remove\" } ] }"
        let selectorStart =
            line.distance(from: line.startIndex, to: try #require(line.range(of: "div[")).lowerBound) + 1
        #expect(diagnostic.line == 11)
        #expect(diagnostic.column == selectorStart + 4)
    }

    @Test func templateFileErrorsNameTheTemplateFile() throws {
        let diagnostic = try #require(ConfigFixtures.diagnostics("invalid/template-file.conf").first)
        #expect(diagnostic.file.hasSuffix("templates/broken.html"))
        #expect(diagnostic.line == 3)
        #expect(diagnostic.column == 31)  // `shout` in `  <p><< attribute.user.name | shout >></p>`
    }

    /// toml++ asserts (aborting the process in debug builds) on these instead of reporting them; the loader
    /// catches them first. Found by mutating full.conf at random and running `veneer check` on 1,800 variants.
    @Test(arguments: [
        ("[[\npath = \"/\"\n", 1, 3), ("a = 1\n  [  # c\n", 2, 6), ("[=]\n", 1, 2), ("[é]\n", 1, 2),
        ("x = [1, }\n", 1, 9), ("x = [\n  { a = 1 },\n}\n", 3, 1),
    ])
    func syntaxThatTOMLKitWouldAssertOn(_ text: String, _ line: Int, _ column: Int) {
        let diagnostics = ConfigFixtures.diagnostics(text: text)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.line == line)
        #expect(diagnostics.first?.column == column)
        #expect(diagnostics.first?.message.hasPrefix("TOML syntax error") == true)
    }

    @Test func aMissingFileIsOneDiagnostic() {
        do {
            _ = try ConfigLoader.load(path: ConfigFixtures.directory + "/no-such.conf", environment: [:])
            Issue.record("loading a missing file succeeded")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.message.contains("cannot read the file") == true)
        }
    }
}
