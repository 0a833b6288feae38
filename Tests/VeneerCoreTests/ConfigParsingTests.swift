import Foundation
import Testing
import VeneerTestSupport

@testable import VeneerCore

@Suite("Config: durations, sizes, instants, suggestions and the source map")
struct ConfigParsingTests {
    @Test(arguments: [
        ("100ms", Duration.milliseconds(100)), ("2s", .seconds(2)), ("30m", .seconds(1800)), ("12h", .seconds(43_200)),
        ("7d", .seconds(604_800)), ("2w", .seconds(1_209_600)), ("1h30m", .seconds(5400)),
        ("1.5s", .milliseconds(1500)),
        (" 20ms ", .milliseconds(20)),
    ])
    func durations(_ text: String, _ expected: Duration) {
        #expect(Duration(configText: text) == expected)
    }

    @Test(arguments: ["", "20", "ms", "2 s", "2sec", "30 minutes", "-1s", "1y", "1h30"])
    func invalidDurations(_ text: String) {
        #expect(Duration(configText: text) == nil)
    }

    @Test(arguments: [
        ("8MiB", 8_388_608), ("512KiB", 524_288), ("65536", 65536), ("1GiB", 1_073_741_824), ("2MB", 2_000_000),
        ("10 KB", 10_000), ("100B", 100),
    ])
    func sizes(_ text: String, _ expected: Int) {
        #expect(ByteSize.parse(text) == expected)
    }

    @Test(arguments: ["", "MiB", "8 mib", "8XB", "-1", "1.5B"])
    func invalidSizes(_ text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func instants() {
        let utc = TimeZone(identifier: "UTC")!
        let berlin = TimeZone(identifier: "Europe/Berlin")!
        #expect(
            Date(configText: "2026-11-01T00:00:00Z", timeZone: berlin) == Date(timeIntervalSince1970: 1_793_491_200))
        #expect(
            Date(configText: "2026-11-01T01:00:00+01:00", timeZone: utc) == Date(timeIntervalSince1970: 1_793_491_200))
        #expect(
            Date(configText: "2026-11-01T00:00:00.250Z", timeZone: utc) == Date(timeIntervalSince1970: 1_793_491_200.25)
        )
        // Without an offset the project's time zone applies (Berlin is UTC+1 in November).
        #expect(Date(configText: "2026-11-01T01:00:00", timeZone: berlin) == Date(timeIntervalSince1970: 1_793_491_200))
        for bad in [
            "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-01", "2026-11-01T25:00:00Z",
            "2026-11-01T00:00:00+1",
        ] {
            #expect(Date(configText: bad, timeZone: utc) == nil, "\(bad)")
        }
    }

    @Test func suggestions() {
        #expect(KeySuggestion.closest(to: "dispaly", among: ["display", "devices"]) == "display")
        #expect(KeySuggestion.closest(to: "sever", among: ConfigBuilder.topLevelKeys) == "server")
        #expect(KeySuggestion.closest(to: "colour", among: ["name", "weight", "payload"]) == nil)
        #expect(
            KeySuggestion.unknownMessage("key", "colour", allowed: ["name", "weight"])
                == "unknown key \"colour\"; allowed: name, weight")
    }

    @Test func sourceMapFollowsHeadersArraysAndInlineTables() {
        let text = """
            # comment [not = a header]
            [server]
            listen = "127.0.0.1:8080"   # trailing comment

            [[personalization]]
            name = "A"
              [[personalization.experience]]
              name = "one"
              [[personalization.experience]]
              audience = { all = [ { event = "Purchase", where = { property = "amount", gt = 5 } },
                                   { attribute = "user.plan", in = ["pro", "team"] } ] }
              payload = { title = \"\"\"
            multi
            line\"\"\", note = 'it''s' }

            [[personalization]]
            name = "B"
            dotted.key = 1
              [[personalization.experience]]
              display = "once"
            """
        let map = ConfigSourceMap(text: text)
        func line(_ path: String) -> Int? { map.locations[path]?.line }
        #expect(line("server") == 2)
        #expect(line("server.listen") == 3)
        #expect(line("personalization[0]") == 5)
        #expect(line("personalization[0].experience[1]") == 9)
        #expect(line("personalization[0].experience[1].audience.all[0].where.gt") == 10)
        #expect(line("personalization[0].experience[1].audience.all[1].in[1]") == 11)
        #expect(line("personalization[0].experience[1].payload.title") == 12)
        #expect(map.locations["personalization[0].experience[1].payload.title"]?.valueIsMultilineString == true)
        #expect(line("personalization[0].experience[1].payload.note") == 14)
        #expect(line("personalization[1].name") == 17)
        #expect(line("personalization[1].dotted.key") == 18)
        #expect(line("personalization[1].experience[0].display") == 20)
        // An unseen path falls back to its nearest ancestor.
        let path = ConfigPath.root.appending("personalization")[1].appending("experience")[0].appending("schedule")
        #expect(map.location(for: path)?.line == 19)
    }

    @Test func sourceMapSurvivesGarbage() {
        for text in [
            "[", "[[", "a = {", "a = [1, [2, {b = \"", "= = =", "\"unterminated", "a.\"b\".c = '''x", "[a.b\nc = 1",
        ] {
            _ = ConfigSourceMap(text: text)
        }
        #expect(ConfigSourceMap(text: "[a.b\nc = 1").locations["a.b.c"]?.line == 2)
    }
}

@Suite("Config: forms and values")
struct ConfigFormTests {
    static let personalization = """
        [[personalization]]
        name = "P"
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "E"

        """

    func experience(_ lines: String) throws -> Arm {
        let config = try ConfigFixtures.load(text: ConfigFixtures.preamble + Self.personalization + lines)
        return try #require(config.optimizations.first?.arms.first)
    }

    @Test func displayCapsAndDevices() throws {
        #expect(
            try experience("audience = \"everyone\"\ndisplay = { times = 2, per = \"visit\" }").display
                == .cap(times: 2, per: .visit))
        #expect(
            try experience("audience = \"everyone\"\ndisplay = { times = 1, per = \"day\" }").display
                == .cap(times: 1, per: .window(seconds: 86_400)))
        #expect(
            try experience("audience = \"everyone\"\ndisplay = { times = 5, per = \"12h\" }").display
                == .cap(times: 5, per: .window(seconds: 43_200)))
        #expect(try experience("audience = \"everyone\"\ndevices = \"Mobile\"").devices == .mobile)
        #expect(try experience("audience = \"everyone\"").display == .always)
        let bad = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + Self.personalization
                + "audience = \"everyone\"\ndisplay = { times = 0, per = \"fortnight\" }")
        #expect(
            bad.map(\.keyPath) == [
                "personalization[0].experience[0].display.times", "personalization[0].experience[0].display.per",
            ])
    }

    @Test func eventConditions() throws {
        #expect(
            try experience("audience = { event = \"Purchase\", at_most = 0 }").audience
                == .event(EventCondition(event: "Purchase", atMost: 0)))
        #expect(
            try experience("audience = { event = \"Purchase\" }").audience
                == .event(EventCondition(event: "Purchase", atLeast: 1)))
        #expect(
            try experience(
                "audience = { event = \"Purchase\", at_least = 1, at_most = 3, within = \"7d\", where = { property = \"sku\", starts_with = \"A-\" } }"
            ).audience
                == .event(
                    EventCondition(
                        event: "Purchase", atLeast: 1, atMost: 3, withinSeconds: 604_800,
                        filter: EventFilter(property: "sku", condition: .startsWith("A-"))))
        )
        let bad = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + Self.personalization
                + "audience = { event = \"Purchase\", at_least = 3, at_most = 1, within = \"forever\" }")
        #expect(bad.map(\.message).contains { $0.contains("at_most = 1 is below at_least = 3") })
        #expect(bad.map(\.message).contains { $0.contains("invalid duration \"forever\"") })
        let twoOperators = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + Self.personalization
                + "audience = { attribute = \"user.plan\", equals = \"pro\", contains = \"p\" }")
        #expect(twoOperators.first?.message.contains("one operator per condition") == true)
    }

    @Test func routesNameSelectorsAndGroups() {
        let text =
            ConfigFixtures.preamble
            + "[[route]]\npath = \"/\"\nnames = [\"pp\"]\ngroups = [\"bannr\"]\n\n[[route]]\npath = \"shop\"\n\n" + """
                [[personalization]]
                name = "P"
                group = "banner"
                metrics = { primary = "Purchase" }

                  [[personalization.experience]]
                  name = "E"
                  audience = "everyone"
                """
        let diagnostics = ConfigFixtures.diagnostics(text: text)
        #expect(diagnostics.map(\.keyPath) == ["route[0].names[0]", "route[0].groups[0]", "route[1].path"])
        #expect(diagnostics[0].message == "no optimization has selector \"pp\"; did you mean \"p\"?")
        #expect(diagnostics[1].message == "no optimization is in group \"bannr\"; did you mean \"banner\"?")
    }

    @Test func payloadFileProblemsNameThePayloadFile() throws {
        let directory = TestScratch.root.appendingPathComponent("veneer-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("{ \"title\": \"Hi << attribute.user.name | nope >>\" }".utf8).write(
            to: directory.appendingPathComponent("bad-template.json"))
        try Data("{ \"title\": ".utf8).write(to: directory.appendingPathComponent("bad-json.json"))
        let text = """
            [origin]
            url = "http://127.0.0.1:3000"

            [[personalization]]
            name = "P"
            metrics = { primary = "Purchase" }

              [[personalization.experience]]
              name = "E"
              audience = "everyone"
              payload_file = "bad-template.json"

              [[personalization.experience]]
              name = "F"
              audience = "everyone"
              payload_file = "bad-json.json"
            """
        do {
            _ = try ConfigLoader.load(text: text, file: "proxy.conf", baseDirectory: directory.path, environment: [:])
            Issue.record("broken payload files were accepted")
        } catch {
            #expect(error.diagnostics.count == 2)
            #expect(
                error.diagnostics.contains {
                    $0.file.hasSuffix("bad-template.json")
                        && $0.keyPath == "personalization[0].experience[0].payload.title"
                        && $0.message.contains("unknown filter \"nope\"")
                })
            #expect(
                error.diagnostics.contains {
                    $0.file.hasSuffix("bad-json.json") && $0.message.hasPrefix("invalid JSON")
                })
        }
    }

    @Test func secretsComeFromTheEnvironment() throws {
        let text = ConfigFixtures.preamble + "[[api_key]]\nid = \"k\"\nsecret = \"env:MY_KEY\"\n"
        let config = try ConfigFixtures.load(text: text, environment: ["MY_KEY": "abc.def"])
        #expect(config.apiKeys == [APIKey(id: "k", secret: "abc.def")])
        let unset = ConfigFixtures.diagnostics(text: text, environment: [:])
        #expect(unset.map(\.message) == ["environment variable MY_KEY is not set"])
    }

    @Test func listenAddresses() throws {
        let config = try ConfigFixtures.load(
            text: ConfigFixtures.preamble + "[server]\nlisten = \"[::1]:0\"\napi_listen = \"0.0.0.0:9090\"\n")
        #expect(config.server.listen == HostAndPort(host: "::1", port: 0))
        #expect(config.server.apiListen == HostAndPort(host: "0.0.0.0", port: 9090))
        let bad = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + "[server]\nlisten = \"8080\"\napi_listen = \"localhost:70000\"\n")
        #expect(bad.map(\.keyPath) == ["server.listen", "server.api_listen"])
    }

    @Test func idleTimeout() throws {
        #expect(try ConfigFixtures.load(text: ConfigFixtures.preamble).server.idleTimeout == .seconds(60))
        let config = try ConfigFixtures.load(text: ConfigFixtures.preamble + "[server]\nidle_timeout = \"75s\"\n")
        #expect(config.server.idleTimeout == .seconds(75))
        let bad = ConfigFixtures.diagnostics(text: ConfigFixtures.preamble + "[server]\nidle_timeout = \"0s\"\n")
        #expect(bad.map(\.keyPath) == ["server.idle_timeout"])
        #expect(bad.first?.message.hasPrefix("invalid duration \"0s\"") == true)
    }

    @Test func relativeRedirectsNeedNoAllowedHost() throws {
        let arm = try experience("audience = \"everyone\"\npayload = { redirect = { url = \"/sale\", status = 301 } }")
        #expect(
            arm.redirect
                == RedirectRule(url: try Template(source: "/sale", mode: .payload), status: 301, keepQuery: false))
        let bad = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + Self.personalization
                + "audience = \"everyone\"\npayload = { redirect = { url = \"//evil.example\", status = 200 } }")
        #expect(bad.map(\.message).contains { $0.contains("invalid redirect status 200") })
    }

    @Test func onlyRunningOptimizationsNeedArms() throws {
        let running = ConfigFixtures.diagnostics(
            text: ConfigFixtures.preamble + "[[personalization]]\nname = \"P\"\nmetrics = { primary = \"Purchase\" }\n")
        #expect(
            running.map(\.message) == [
                "running personalization \"P\" has no experience; add [[personalization.experience]]"
            ])
        #expect(running.first?.line == 3)
        let draft = try ConfigFixtures.load(
            text: ConfigFixtures.preamble
                + "[[experiment]]\nname = \"E\"\nstatus = \"draft\"\nmetrics = { primary = \"Purchase\" }\n")
        #expect(draft.optimizations.first?.arms.isEmpty == true)
    }

    @Test func misplacedAndMistypedKeysGetOneDiagnosticEach() {
        let text =
            ConfigFixtures.preamble + """
                [server]
                templates = "no-such-templates"

                [[personalization]]
                name = "P"
                audience = "everyone"
                metrics = { primary = "Purchase" }

                  [[personalization.experience]]
                  name = "E"
                  audience = "everyone"

                [[experiment]]
                name = "X"
                metrics = { primary = "Purchase" }

                  [[experiment.variant]]
                  name = "a"
                  weight = "half"
                """
        let diagnostics = ConfigFixtures.diagnostics(text: text)
        #expect(
            diagnostics.map(\.keyPath) == [
                "server.templates", "personalization[0].audience", "experiment[0].variant[0].weight",
            ])
        #expect(diagnostics[0].message.contains("no-such-templates does not exist"))
        #expect(diagnostics[1].message.contains("move audience into each [[personalization.experience]]"))
        #expect(diagnostics[2].message == "expected a number, found a string")
    }
}
