import Foundation
import Testing
import VeneerCore

struct EngineFilteringTests {
    static let engine = Fixture.engine([
        Fixture.personalization("banner-a", group: "banner", experiences: [Fixture.experience("all")]),
        Fixture.personalization("banner-b", group: "banner", experiences: [Fixture.experience("all")]),
        Fixture.personalization("hero", group: "hero", experiences: [Fixture.experience("all")]),
        Fixture.experiment("cta", group: "cta", variants: [("green", 100)]),
    ])

    struct Case: Sendable, CustomTestStringConvertible {
        let names: [String]?
        let groups: [String]?
        let type: Optimization.Kind?
        let served: Set<String>
        var testDescription: String {
            "names \(String(describing: names)) groups \(String(describing: groups)) type \(String(describing: type))"
        }
    }

    @Test(arguments: [
        Case(names: nil, groups: nil, type: nil, served: ["banner-a", "banner-b", "hero", "cta"]),
        Case(names: [], groups: nil, type: nil, served: []),
        Case(names: nil, groups: [], type: nil, served: []),
        Case(names: [], groups: [], type: nil, served: []),
        Case(names: ["hero"], groups: nil, type: nil, served: ["hero"]),
        Case(names: nil, groups: ["banner"], type: nil, served: ["banner-a", "banner-b"]),
        Case(names: ["hero"], groups: ["banner"], type: nil, served: ["banner-a", "banner-b", "hero"]),
        Case(names: ["unknown"], groups: ["nothing"], type: nil, served: []),
        Case(names: nil, groups: nil, type: .experiment, served: ["cta"]),
        Case(names: ["hero", "cta"], groups: nil, type: .personalization, served: ["hero"]),
    ])
    func namesGroupsAndType(_ testCase: Case) {
        let result = Self.engine.choose(
            Fixture.request(names: testCase.names, groups: testCase.groups, type: testCase.type),
            profile: ProfileView(),
            now: Fixture.now)
        #expect(Set(result.served.map(\.selector)) == testCase.served)
        for decision in result.decisions where !testCase.served.contains(decision.selector) {
            #expect(decision.outcome == .skipped(.filtered))
        }
        #expect(result.decisions.count == 4, "every optimization gets a decision with a reason")
    }

    @Test func statusDraftAndPausedAreNeverServed() {
        let engine = Fixture.engine([
            Fixture.personalization("d", status: .draft, experiences: [Fixture.experience("all")]),
            Fixture.personalization("p", status: .paused, experiences: [Fixture.experience("all")]),
            Fixture.experiment("e", status: .paused, variants: [("x", 100)]),
        ])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "d") == .skipped(.draft))
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "p") == .skipped(.paused))
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "e") == .skipped(.paused))
    }

    @Test func noIdentityIsSkipped() {
        let engine = Fixture.engine([Fixture.personalization("a", experiences: [Fixture.experience("all")])])
        let request = DecisionRequest(identification: .init(sourceId: "1"))
        #expect(Fixture.outcome(engine, request, selector: "a") == .skipped(.noIdentity))
    }

    @Test func assignmentKeyIsUserIdElseSourceAndProfile() {
        #expect(DecisionRequest.Identification(sourceId: "7", profileId: "p", userId: "u").assignmentKey == "u")
        #expect(DecisionRequest.Identification(sourceId: "7", profileId: "p").assignmentKey == "7_p")
        #expect(DecisionRequest.Identification(sourceId: "7", profileId: "p", userId: "").assignmentKey == "7_p")
        #expect(DecisionRequest.Identification(sourceId: "7").assignmentKey == nil)
    }
}

struct EngineAudienceTests {
    static let segments = [
        Segment(
            name: "big-spenders",
            audience: .event(EventCondition(event: "Purchase", atLeast: 3, withinSeconds: 90 * 86_400))),
        Segment(
            name: "vip",
            audience: .all([.segment("big-spenders"), .attribute(path: ["user", "tier"], .equals("gold"))])),
    ]

    static func engine(_ audience: Audience) -> Engine {
        Fixture.engine(
            [Fixture.personalization("x", experiences: [Fixture.experience("e", audience: audience)])],
            segments: segments)
    }

    static func served(
        _ audience: Audience, profile: ProfileView = ProfileView(), page: PageFacts = PageFacts()
    ) -> Bool {
        Fixture.outcome(engine(audience), Fixture.request(page: page), profile: profile, selector: "x")
            == .served(arm: "e")
    }

    static func purchases(daysAgo: [Int], amount: Double = 10) -> ProfileView {
        var view = ProfileView()
        let keys = [
            EventKey(event: "Purchase"),
            EventKey(event: "Purchase", filter: EventFilter(property: "amount", condition: .greaterThan(50))),
        ]
        for days in daysAgo {
            view.record(
                event: "Purchase", data: ["amount": .number(amount)],
                timestamp: Fixture.nowMilliseconds - Int64(days) * 86_400_000,
                keys: keys)
        }
        return view
    }

    @Test func attributeConditionsReadUserAndAccountAttributes() {
        let profile = ProfileView(
            userAttributes: ["plan": "pro", "address": ["city": "Riga"], "age": 41], accountAttributes: ["seats": 12])
        #expect(Self.served(.attribute(path: ["user", "plan"], .equals("pro")), profile: profile))
        #expect(!Self.served(.attribute(path: ["user", "plan"], .equals("free")), profile: profile))
        #expect(Self.served(.attribute(path: ["user", "address", "city"], .equals("Riga")), profile: profile))
        #expect(Self.served(.attribute(path: ["account", "seats"], .greaterThanOrEqual(10)), profile: profile))
        #expect(!Self.served(.attribute(path: ["account", "plan"], .exists(true)), profile: profile))
        #expect(Self.served(.attribute(path: ["user", "age"], .lessThan(50)), profile: profile))
    }

    @Test func requestConditionsReadThePage() {
        let page = PageFacts(
            path: "/shop/shoes", url: "http://shop.test/shop/shoes?utm_source=newsletter",
            query: ["utm_source": "newsletter"], referrer: "https://news.example/x", headers: ["x-plan": "beta"],
            cookies: ["ab": "1"], language: "de-de", country: "DE")
        #expect(Self.served(.request(.path, .startsWith("/shop")), page: page))
        #expect(Self.served(.request(.url, .contains("utm_source")), page: page))
        #expect(Self.served(.request(.query("utm_source"), .equals("newsletter")), page: page))
        #expect(!Self.served(.request(.query("utm_source"), .equals("ads")), page: page))
        #expect(!Self.served(.request(.query("utm_campaign"), .exists(true)), page: page))
        #expect(Self.served(.request(.referrer, .contains("news.example")), page: page))
        #expect(Self.served(.request(.header("x-plan"), .equals("beta")), page: page))
        #expect(Self.served(.request(.cookie("ab"), .equals("1")), page: page))
        #expect(Self.served(.request(.language, .startsWith("de")), page: page))
        #expect(Self.served(.request(.country, .isIn(["DE", "AT"])), page: page))
        #expect(!Self.served(.request(.country, .isIn(["US"])), page: page))
    }

    @Test func eventConditionsCountWithinTheWindow() {
        let three = EventCondition(event: "Purchase", atLeast: 3, withinSeconds: 30 * 86_400)
        #expect(Self.served(.event(three), profile: Self.purchases(daysAgo: [1, 2, 3])))
        #expect(!Self.served(.event(three), profile: Self.purchases(daysAgo: [1, 2, 31])), "one is outside 30 days")
        let ever = EventCondition(event: "Purchase", atLeast: 3)
        #expect(Self.served(.event(ever), profile: Self.purchases(daysAgo: [1, 200, 400])))
        let never = EventCondition(event: "Purchase", atMost: 0)
        #expect(Self.served(.event(never), profile: ProfileView()))
        #expect(!Self.served(.event(never), profile: Self.purchases(daysAgo: [400])))
        let atMostTwo = EventCondition(event: "Purchase", atMost: 2, withinSeconds: 7 * 86_400)
        #expect(Self.served(.event(atMostTwo), profile: Self.purchases(daysAgo: [1, 2, 10])))
        #expect(!Self.served(.event(atMostTwo), profile: Self.purchases(daysAgo: [1, 2, 3])))
        let performed = EventCondition(event: "Purchase")
        #expect(Self.served(.event(performed), profile: Self.purchases(daysAgo: [5])))
        #expect(!Self.served(.event(performed), profile: ProfileView()))
    }

    @Test func eventFiltersCountOnlyMatchingEvents() {
        let big = EventCondition(
            event: "Purchase", atLeast: 1, withinSeconds: 30 * 86_400,
            filter: EventFilter(property: "amount", condition: .greaterThan(50)))
        #expect(Self.served(.event(big), profile: Self.purchases(daysAgo: [1], amount: 80)))
        #expect(!Self.served(.event(big), profile: Self.purchases(daysAgo: [1, 2, 3], amount: 20)))
    }

    @Test func segmentsAndCombinators() {
        let spender = Self.purchases(daysAgo: [1, 2, 3])
        var goldSpender = spender
        goldSpender.userAttributes["tier"] = "gold"
        #expect(Self.served(.segment("big-spenders"), profile: spender))
        #expect(!Self.served(.segment("big-spenders"), profile: ProfileView()))
        #expect(!Self.served(.segment("vip"), profile: spender))
        #expect(Self.served(.segment("vip"), profile: goldSpender))
        #expect(!Self.served(.segment("no-such-segment")))
        #expect(Self.served(.any([.segment("vip"), .everyone])))
        #expect(!Self.served(.all([.everyone, .not(.everyone)])))
        #expect(Self.served(.not(.segment("big-spenders"))))
        #expect(Self.served(.all([])), "all of nothing is true")
        #expect(!Self.served(.any([])), "any of nothing is false")
    }

    @Test func experienceWithoutAudienceNeedsSetupAndIsNeverServed() {
        let engine = Fixture.engine([
            Fixture.personalization("x", experiences: [Fixture.experience("unset", audience: nil)])
        ])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "x") == .skipped(.notTargeted))
    }

    @Test func experimentAudienceGatesEligibility() {
        let engine = Fixture.engine([
            Fixture.experiment(
                "e", audience: .attribute(path: ["user", "plan"], .equals("pro")), variants: [("x", 100)])
        ])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "e") == .skipped(.notTargeted))
        let pro = ProfileView(userAttributes: ["plan": "pro"])
        #expect(Fixture.outcome(engine, Fixture.request(), profile: pro, selector: "e") == .served(arm: "x"))
    }
}

struct EngineTargetingTests {
    @Test func priorityIsTheOrderInTheFile() {
        let engine = Fixture.engine([
            Fixture.personalization(
                "p",
                experiences: [
                    Fixture.experience("pro", audience: .attribute(path: ["user", "plan"], .equals("pro"))),
                    Fixture.experience("everyone"),
                    Fixture.experience("never-reached"),
                ])
        ])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "p") == .served(arm: "everyone"))
        let pro = ProfileView(userAttributes: ["plan": "pro"])
        #expect(Fixture.outcome(engine, Fixture.request(), profile: pro, selector: "p") == .served(arm: "pro"))
    }

    @Test func devicesFilterExperiences() {
        let engine = Fixture.engine([
            Fixture.personalization(
                "p",
                experiences: [
                    Fixture.experience("mobile-only", devices: .mobile),
                    Fixture.experience("desktop-only", devices: .desktop),
                ]),
            Fixture.personalization("m", experiences: [Fixture.experience("mobile-only", devices: .mobile)]),
        ])
        #expect(Fixture.outcome(engine, Fixture.request(device: .mobile), selector: "p") == .served(arm: "mobile-only"))
        #expect(
            Fixture.outcome(engine, Fixture.request(device: .desktop), selector: "p") == .served(arm: "desktop-only"))
        #expect(Fixture.outcome(engine, Fixture.request(device: .desktop), selector: "m") == .skipped(.device))
        // A request of device "all" (API default) matches only experiences for all devices.
        #expect(Fixture.outcome(engine, Fixture.request(device: .all), selector: "m") == .skipped(.device))
        #expect(Device(caseInsensitive: "MOBILE") == .mobile)
        #expect(Device(caseInsensitive: "tv") == nil)
    }

    @Test func scheduleWindowAndDays() throws {
        let november = Schedule(
            start: ISO8601Instant.parse("2026-11-01T00:00:00Z"), end: ISO8601Instant.parse("2026-12-01T00:00:00Z"))
        let weekdaysNineToSix = Schedule(
            weekdays: [2, 3, 4, 5, 6], dailyWindow: .init(startMinute: 9 * 60, endMinute: 18 * 60))
        let lateNight = Schedule(dailyWindow: .init(startMinute: 22 * 60, endMinute: 2 * 60))
        let engine = Fixture.engine([
            Fixture.personalization("nov", experiences: [Fixture.experience("e", schedule: november)]),
            Fixture.personalization("office", experiences: [Fixture.experience("e", schedule: weekdaysNineToSix)]),
            Fixture.personalization("night", experiences: [Fixture.experience("e", schedule: lateNight)]),
        ])
        func outcome(_ selector: String, _ instant: String) -> Decision.Outcome? {
            Fixture.outcome(engine, Fixture.request(), at: ISO8601Instant.parse(instant)!, selector: selector)
        }
        #expect(outcome("nov", "2026-11-25T12:00:00Z") == .served(arm: "e"))
        #expect(outcome("nov", "2026-10-31T23:59:59Z") == .skipped(.schedule))
        #expect(outcome("nov", "2026-12-01T00:00:00Z") == .skipped(.schedule), "end is exclusive")
        #expect(outcome("office", "2026-11-25T09:00:00Z") == .served(arm: "e"))  // Wednesday
        #expect(outcome("office", "2026-11-25T18:00:00Z") == .skipped(.schedule))
        #expect(outcome("office", "2026-11-29T12:00:00Z") == .skipped(.schedule))  // Sunday
        #expect(outcome("night", "2026-11-25T23:30:00Z") == .served(arm: "e"))
        #expect(outcome("night", "2026-11-25T01:59:00Z") == .served(arm: "e"))
        #expect(outcome("night", "2026-11-25T02:00:00Z") == .skipped(.schedule))
    }

    @Test func weeklyWindowsFollowTheProjectTimeZoneAcrossDaylightSaving() {
        let nineToSix = Schedule(dailyWindow: .init(startMinute: 9 * 60, endMinute: 18 * 60))
        let engine = Fixture.engine(
            [Fixture.personalization("ny", experiences: [Fixture.experience("e", schedule: nineToSix)])],
            timeZone: "America/New_York")
        func outcome(_ instant: String) -> Decision.Outcome? {
            Fixture.outcome(engine, Fixture.request(), at: ISO8601Instant.parse(instant)!, selector: "ny")
        }
        // Friday 6 March 2026, EST (UTC-5): 13:30Z is 08:30 local.
        #expect(outcome("2026-03-06T13:30:00Z") == .skipped(.schedule))
        // Monday 9 March 2026, EDT (UTC-4) since the 8th: 13:30Z is 09:30 local.
        #expect(outcome("2026-03-09T13:30:00Z") == .served(arm: "e"))
        // After the autumn change (1 November 2026) it is EST again: 13:30Z is 08:30.
        #expect(outcome("2026-11-02T13:30:00Z") == .skipped(.schedule))
        #expect(outcome("2026-11-02T14:00:00Z") == .served(arm: "e"))
        // Saturday in New York while it is already Sunday in UTC.
        let weekendOnly = Schedule(weekdays: [7])
        let saturday = Fixture.engine(
            [Fixture.personalization("sat", experiences: [Fixture.experience("e", schedule: weekendOnly)])],
            timeZone: "America/New_York")
        #expect(
            Fixture.outcome(
                saturday, Fixture.request(), at: ISO8601Instant.parse("2026-11-29T03:00:00Z")!, selector: "sat")
                == .served(arm: "e"))
    }
}

struct EngineDisplayTests {
    static func history(_ records: [(arm: String, minutesAgo: Int, session: String?)]) -> ProfileView {
        ProfileView(exposures: [
            "p": records.map {
                ExposureRecord(
                    arm: $0.arm, timestamp: Fixture.nowMilliseconds - Int64($0.minutesAgo) * 60_000,
                    sessionId: $0.session,
                    control: false)
            }
        ])
    }

    static func outcome(
        _ display: DisplayFrequency, _ profile: ProfileView, session: String? = "s1"
    ) -> Decision.Outcome? {
        let engine = Fixture.engine([
            Fixture.personalization(
                "p", experiences: [Fixture.experience("first", display: display), Fixture.experience("fallback")])
        ])
        return Fixture.outcome(engine, Fixture.request(session: session), profile: profile, selector: "p")
    }

    @Test func always() {
        #expect(Self.outcome(.always, Self.history([("first", 1, "s1"), ("first", 2, "s1")])) == .served(arm: "first"))
    }

    @Test func onceEverThenTheNextExperience() {
        #expect(Self.outcome(.once, ProfileView()) == .served(arm: "first"))
        #expect(Self.outcome(.once, Self.history([("first", 60 * 24 * 300, "old")])) == .served(arm: "fallback"))
        #expect(Self.outcome(.once, Self.history([("fallback", 1, "s1")])) == .served(arm: "first"), "per experience")
    }

    @Test func oncePerVisitIsPerSession() {
        #expect(Self.outcome(.oncePerVisit, Self.history([("first", 1, "s1")])) == .served(arm: "fallback"))
        #expect(Self.outcome(.oncePerVisit, Self.history([("first", 1, "s0")])) == .served(arm: "first"))
        // Without a session id the scope is "default", as Intempt does.
        #expect(
            Self.outcome(.oncePerVisit, Self.history([("first", 1, nil)]), session: nil) == .served(arm: "fallback"))
    }

    @Test func capsPerWindowAndPerVisit() {
        let threePerDay = DisplayFrequency.cap(times: 3, per: .window(seconds: 86_400))
        #expect(
            Self.outcome(threePerDay, Self.history([("first", 10, "a"), ("first", 20, "b")])) == .served(arm: "first"))
        #expect(
            Self.outcome(threePerDay, Self.history([("first", 10, "a"), ("first", 20, "b"), ("first", 30, "c")]))
                == .served(arm: "fallback"))
        #expect(
            Self.outcome(threePerDay, Self.history([("first", 10, "a"), ("first", 20, "b"), ("first", 60 * 25, "c")]))
                == .served(arm: "first"), "one is older than a day")
        let twicePerVisit = DisplayFrequency.cap(times: 2, per: .visit)
        #expect(
            Self.outcome(twicePerVisit, Self.history([("first", 1, "s1"), ("first", 2, "s0"), ("first", 3, "s0")]))
                == .served(arm: "first"))
        #expect(
            Self.outcome(twicePerVisit, Self.history([("first", 1, "s1"), ("first", 2, "s1")]))
                == .served(arm: "fallback"))
    }

    @Test func cappedIsTheReasonWhenNothingElseQualifies() {
        let engine = Fixture.engine([
            Fixture.personalization("p", experiences: [Fixture.experience("only", display: .once)])
        ])
        let seen = ProfileView(exposures: [
            "p": [ExposureRecord(arm: "only", timestamp: 0, sessionId: nil, control: false)]
        ])
        #expect(Fixture.outcome(engine, Fixture.request(), profile: seen, selector: "p") == .skipped(.capped))
    }
}

struct EngineAssignmentTests {
    @Test func controlShareIsAControlExposureOfTheQualifyingExperience() throws {
        let engine = Fixture.engine([
            Fixture.personalization(
                "p", control: 50,
                experiences: [
                    Fixture.experience("pro", audience: .attribute(path: ["user", "plan"], .equals("pro"))),
                    Fixture.experience("all"),
                ])
        ])
        var sawControl = false
        var sawServed = false
        for index in 0..<200 {
            let result = engine.choose(Fixture.request(profile: "v\(index)"), profile: ProfileView(), now: Fixture.now)
            let decision = try #require(result.decisions.first)
            let exposure = try #require(decision.exposure, "both arms record an exposure")
            #expect(exposure.arm == "all")
            switch decision.outcome {
            case .control(let arm):
                sawControl = true
                #expect(arm == "all" && exposure.control && decision.payload == nil)
                #expect(result.served.isEmpty)
            case .served(let arm):
                sawServed = true
                #expect(arm == "all" && !exposure.control && decision.payload != nil)
            case .skipped(let reason):
                Issue.record("unexpected skip \(reason)")
            }
        }
        #expect(sawControl && sawServed)
    }

    @Test func experimentCoverageHoldsVisitorsOut() {
        let engine = Fixture.engine([Fixture.experiment("e", coverage: 0, variants: [("a", 50), ("b", 50)])])
        #expect(Fixture.outcome(engine, Fixture.request(), selector: "e") == .skipped(.holdout))
    }

    @Test func stickyArmWinsOverTheHashAndBucketVersionReBuckets() throws {
        let engine = Fixture.engine([Fixture.experiment("e", variants: [("a", 50), ("b", 50)])])
        let request = Fixture.request(profile: "p-sticky")
        let natural = try #require(
            engine.choose(request, profile: ProfileView(), now: Fixture.now).decisions.first?.servedArm)
        let other = natural == "a" ? "b" : "a"
        let sticky = ProfileView(assignments: ["e": StickyAssignment(arm: other, control: false, bucketVersion: 1)])
        #expect(Fixture.outcome(engine, request, profile: sticky, selector: "e") == .served(arm: other))
        let stale = ProfileView(assignments: ["e": StickyAssignment(arm: other, control: false, bucketVersion: 0)])
        #expect(Fixture.outcome(engine, request, profile: stale, selector: "e") == .served(arm: natural))
        let removedArm = ProfileView(assignments: ["e": StickyAssignment(arm: "gone", control: false, bucketVersion: 1)]
        )
        #expect(Fixture.outcome(engine, request, profile: removedArm, selector: "e") == .served(arm: natural))
    }

    @Test func stickinessNeverBypassesTargeting() {
        let engine = Fixture.engine([
            Fixture.experiment(
                "e", audience: .attribute(path: ["user", "plan"], .equals("pro")), variants: [("a", 50), ("b", 50)])
        ])
        let sticky = ProfileView(assignments: ["e": StickyAssignment(arm: "a", control: false, bucketVersion: 1)])
        #expect(Fixture.outcome(engine, Fixture.request(), profile: sticky, selector: "e") == .skipped(.notTargeted))
    }

    @Test func signingInKeepsTheStickyArm() throws {
        let engine = Fixture.engine([Fixture.experiment("e", variants: [("a", 50), ("b", 50)])])
        for index in 0..<100 {
            let anonymous = Fixture.request(profile: "visitor-\(index)")
            let first = try #require(engine.choose(anonymous, profile: ProfileView(), now: Fixture.now).decisions.first)
            var view = ProfileView()
            view.record(exposure: try #require(first.exposure), timestamp: Fixture.nowMilliseconds, sessionId: "s1")
            let signedIn = Fixture.request(profile: "visitor-\(index)", user: "user-\(index)")
            let later = try #require(engine.choose(signedIn, profile: view, now: Fixture.now).decisions.first)
            #expect(later.servedArm == first.servedArm)
            #expect(later.exposure?.assignmentKey == "user-\(index)")
        }
    }

    @Test func payloadIsRenderedForTheVisitor() throws {
        let payload: JSONValue = [
            "title": "Welcome back, << attribute.user.first_name | default: \"friend\" >>!", "n": 3,
        ]
        let engine = Fixture.engine([
            Fixture.personalization("p", experiences: [Fixture.experience("e", payload: payload)])
        ])
        let named = ProfileView(userAttributes: ["first_name": "Ada"])
        let result = engine.choose(Fixture.request(), profile: named, now: Fixture.now)
        #expect(result.served.first?.payload == ["title": "Welcome back, Ada!", "n": 3])
        let anonymous = engine.choose(Fixture.request(), profile: ProfileView(), now: Fixture.now)
        #expect(anonymous.served.first?.payload == ["title": "Welcome back, friend!", "n": 3])
    }
}

struct EngineExposureTests {
    @Test func unchangedVariantIsServedWithAControlExposure() throws {
        let engine = Fixture.engine([Fixture.experiment("e", variants: [("control", 100)])])
        let decision = try #require(
            engine.choose(Fixture.request(), profile: ProfileView(), now: Fixture.now).decisions.first)
        #expect(decision.outcome == .served(arm: "control"))
        #expect(decision.payload == nil)
        let exposure = try #require(decision.exposure)
        #expect(exposure.control && exposure.arm == "control" && exposure.kind == .experiment)
    }

    @Test func skippedDecisionsRecordNothing() {
        let engine = Fixture.engine([Fixture.experiment("e", coverage: 0, variants: [("a", 100)])])
        let result = engine.choose(Fixture.request(), profile: ProfileView(), now: Fixture.now)
        #expect(result.exposures.isEmpty)
        #expect(result.decisions.first?.explanation.hasPrefix("skipped: holdout") == true)
    }

    @Test func exposureRoundTripsThroughATrackEvent() throws {
        let engine = Fixture.engine([
            Fixture.personalization("p", group: "banner", control: 0, experiences: [Fixture.experience("hero")])
        ])
        let decision = try #require(
            engine.choose(Fixture.request(user: "u9"), profile: ProfileView(), now: Fixture.now).decisions.first)
        let exposure = try #require(decision.exposure)
        let event = TrackEvent.exposure(
            exposure, eventId: "ev1", timestamp: Fixture.nowMilliseconds, sourceId: "1", profileId: "p1", userId: "u9",
            sessionId: "s1", url: "http://shop.test/", device: .desktop, applied: true)
        #expect(event.name == "Experience exposure")
        #expect(event.data["experience"] == "hero" && event.data["group"] == "banner" && event.data["applied"] == true)
        #expect(
            event.data["assignmentKey"] == "u9" && event.data["bucketVersion"] == 1 && event.data["control"] == false)
        #expect(event.exposure == exposure)
        var other = event
        other.name = "View Page"
        #expect(other.exposure == nil)
    }
}
