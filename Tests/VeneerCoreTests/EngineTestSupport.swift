import Foundation
import VeneerCore

/// Small builders so each engine test states only what it is about.
enum Fixture {
    static let now = ISO8601Instant.parse("2026-11-25T12:00:00Z")!
    static let nowMilliseconds = Int64(now.timeIntervalSince1970 * 1000)

    static func personalization(
        _ selector: String, group: String? = nil, status: Optimization.Status = .running, control: Double = 0,
        bucketVersion: Int = 1, experiences: [Arm]
    ) -> Optimization {
        Optimization(
            name: selector, selector: selector, group: group, kind: .personalization, status: status,
            metrics: Metrics(primary: Metric(event: "Purchase")), bucketVersion: bucketVersion,
            controlPercent: control, arms: experiences)
    }

    static func experiment(
        _ selector: String, group: String? = nil, status: Optimization.Status = .running, coverage: Double = 100,
        audience: Audience? = nil, bucketVersion: Int = 1, variants: [(String, Double)]
    ) -> Optimization {
        Optimization(
            name: selector, selector: selector, group: group, kind: .experiment, status: status,
            metrics: Metrics(primary: Metric(event: "Purchase")), bucketVersion: bucketVersion,
            coveragePercent: coverage, audience: audience,
            arms: variants.map { name, weight in
                Arm(name: name, weight: weight, payload: name == "control" ? nil : ["variant": .string(name)])
            })
    }

    static func experience(
        _ name: String, audience: Audience? = .everyone, display: DisplayFrequency = .always,
        devices: DeviceFilter = .all, schedule: Schedule? = nil, payload: JSONValue = ["shown": true]
    ) -> Arm {
        Arm(
            name: name, audience: audience, display: display, devices: devices, schedule: schedule, payload: payload,
            compiledPayload: try? PayloadTemplate(payload))
    }

    static func engine(_ optimizations: [Optimization], segments: [Segment] = [], timeZone: String = "UTC") -> Engine {
        var config = VeneerConfig(segments: segments, optimizations: optimizations)
        config.project.timeZone = TimeZone(identifier: timeZone)!
        return Engine(config: config)
    }

    static func request(
        profile: String = "p1", user: String? = nil, names: [String]? = nil, groups: [String]? = nil,
        device: Device = .desktop, session: String? = "s1", type: Optimization.Kind? = nil,
        page: PageFacts = PageFacts()
    ) -> DecisionRequest {
        DecisionRequest(
            identification: .init(sourceId: "1", profileId: profile, userId: user), names: names, groups: groups,
            device: device, sessionId: session, optimizationType: type, page: page)
    }

    /// The outcome for one selector.
    static func outcome(
        _ engine: Engine, _ request: DecisionRequest, profile: ProfileView = ProfileView(), at instant: Date = now,
        selector: String
    ) -> Decision.Outcome? {
        engine.choose(request, profile: profile, now: instant).decisions.first { $0.selector == selector }?.outcome
    }
}
