import ChooseScenario
import Foundation
import VeneerCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Runs the first `choose` benchmark a given number of times after one warm-up call, for counting
// instructions under callgrind or sampling with perf; `dump` prints every decision, payload and exposure
// of a spread of visitors and configurations, to compare two versions of the engine byte for byte.
//
//   ChooseInstructions scenario <iterations>
//   ChooseInstructions payloads <iterations>   (each call's served payloads read whole too)
//   ChooseInstructions texts <iterations>      (… and printed as JSON text, as choose-api did until it wrote them
//                                               directly)
//   ChooseInstructions written <iterations>    (each served payload written as JSON text from the rendered
//                                               strings, as choose-api does)
//   ChooseInstructions templates <iterations>  (a change template reading payload.title per served decision,
//                                               as the proxy does)
//   ChooseInstructions dump <proxy.conf>

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: ChooseInstructions scenario|payloads|texts|written|templates <iterations> | dump <proxy.conf>")
    exit(2)
}

if ["scenario", "payloads", "texts", "written", "templates"].contains(arguments[1]) {
    let iterations = Int(arguments[2]) ?? 0
    let readPayloads = arguments[1] == "payloads"
    let printPayloads = arguments[1] == "texts"
    let writePayloads = arguments[1] == "written"
    let renderTemplates = arguments[1] == "templates"
    let change = try Template(source: "<h1><< payload.title >></h1>", mode: .payload)
    let scenario = ChooseScenario()
    var served = scenario.engine.choose(scenario.request, profile: scenario.profile, now: scenario.now).served.count
    for _ in 0..<iterations {
        let result = scenario.engine.choose(scenario.request, profile: scenario.profile, now: scenario.now)
        served &+= result.decisions.count
        if readPayloads {
            for decision in result.decisions where decision.servedArm != nil {
                served &+= decision.payload?.objectValue?.count ?? 0
            }
        }
        if printPayloads {
            for decision in result.decisions where decision.servedArm != nil {
                served &+= (decision.payload ?? .null).jsonText().utf8.count
            }
        }
        if writePayloads {
            var text = ""
            for decision in result.decisions where decision.servedArm != nil {
                decision.writePayloadJSON(into: &text)
            }
            served &+= text.utf8.count
        }
        if renderTemplates {
            for decision in result.decisions where decision.servedArm != nil {
                let context = TemplateContext(decision: decision, request: scenario.request.page)
                served &+= change.render(context).utf8.count
            }
        }
    }
    print(served)
    exit(0)
}

func report(_ title: String, _ result: DecisionResult) {
    print("== \(title)")
    for decision in result.decisions {
        print("\(decision.selector) \(decision.optimizationName) \(decision.kind.rawValue): \(decision.explanation)")
        if let payload = decision.payload { print("  payload: \(payload.jsonText())") }
        if let exposure = decision.exposure { print("  exposure: \(exposure)") }
    }
    print("  exposures: \(result.exposures.count), served: \(result.served.map(\.selector))")
}

let now = ISO8601Instant.parse("2026-11-25T12:00:00Z")!
let nowMilliseconds: Int64 = 1_795_608_000_000

// proxy.conf with visitors that differ in identity, device, page, attributes and history.
let config = try ConfigLoader.load(path: arguments[2])
let engine = Engine(config: config)
for visitor in 0..<24 {
    var view = ProfileView(
        userAttributes: visitor % 3 == 0 ? [:] : ["first_name": .string(visitor % 2 == 0 ? "Ada" : "Zoë <\"x\">")],
        accountAttributes: [:])
    for event in 0..<(visitor % 4) {
        view.record(
            event: "View Page", data: [:], timestamp: nowMilliseconds - Int64(event) * 3_600_000,
            keys: config.eventKeys)
    }
    if visitor % 5 == 1 {
        view.record(
            exposure: Exposure(
                selector: "welcome-back", optimizationName: "Welcome back", group: "banner", kind: .personalization,
                arm: "Returning visitor", control: false, bucketVersion: 1, assignmentKey: "u\(visitor)"),
            timestamp: nowMilliseconds - 60_000, sessionId: "s\(visitor)")
    }
    let queries = ["", "?utm_source=newsletter", "?campaign=winter", "?utm_source=ads"]
    let request = DecisionRequest(
        identification: .init(
            sourceId: "1", profileId: visitor % 7 == 6 ? nil : "p\(visitor)",
            userId: visitor % 2 == 0 ? "u\(visitor)" : nil),
        device: visitor % 3 == 1 ? .mobile : .desktop, sessionId: visitor % 4 == 0 ? nil : "s\(visitor)",
        page: PageFacts(visitedURL: "http://shop.test/shop/item\(queries[visitor % queries.count])"))
    report("proxy.conf visitor \(visitor)", engine.choose(request, profile: view, now: now))
}

// Payloads of every shape: nested objects and arrays of templates, both placeholder syntaxes, filters,
// visitor and request facts, constants beside templates.
let payloads: [JSONValue] = [
    ["title": "Hi << attribute.user.first_name | default: \"friend\" >>!", "n": 3, "on": true, "none": nil],
    [
        "list": ["<< visitor.device >>", "plain", ["deep": "{{ request.path }} and {{ attribute.user.first_name }}"]],
        "object": ["a": ["b": ["c": "<< attribute.user.first_name | upper >>"]], "k": "constant"],
        "same": "<< attribute.user.first_name | default: \"friend\" >>",
    ],
    ["changes": [["selector": "#x", "action": "inner", "html": "<b>{{ attribute.account.plan }}</b>"]]],
    ["only": "constant", "array": [1, 2, 3]],
    ["a": "<< request.query.utm_source >>", "b": "<< visitor.profile_id >> / << visitor.user_id >>"],
]
var optimizations: [Optimization] = []
for index in 0..<20 {
    let payload = payloads[index % payloads.count]
    let alternate = payloads[(index + 1) % payloads.count]
    if index % 3 != 2 {
        optimizations.append(
            Optimization(
                name: "P\(index)", selector: "p-\(index)", group: "g\(index % 4)", kind: .personalization,
                controlPercent: index % 2 == 0 ? 20 : 0,
                arms: [
                    Arm(
                        name: "first",
                        audience: index % 4 == 0 ? .request(.query("utm_source"), .equals("ads")) : .everyone,
                        display: .oncePerVisit, payload: payload, compiledPayload: try! PayloadTemplate(payload)),
                    Arm(
                        name: "second", audience: .everyone, payload: alternate,
                        compiledPayload: try! PayloadTemplate(alternate)),
                ]))
    } else {
        optimizations.append(
            Optimization(
                name: "X\(index)", selector: "x-\(index)", kind: .experiment, coveragePercent: 80, audience: .everyone,
                arms: [
                    Arm(name: "control", weight: 40),
                    Arm(name: "one", weight: 30, payload: payload, compiledPayload: try! PayloadTemplate(payload)),
                    Arm(name: "two", weight: 30, payload: alternate, compiledPayload: try! PayloadTemplate(alternate)),
                ]))
    }
}
let shapes = Engine(config: VeneerConfig(optimizations: optimizations))
for visitor in 0..<16 {
    var view = ProfileView(
        userAttributes: visitor % 2 == 0 ? ["first_name": .string("Ada\(visitor)")] : [:],
        accountAttributes: visitor % 3 == 0 ? ["plan": "pro"] : [:])
    if visitor % 4 == 1 {
        for index in 0..<20 {
            view.record(
                exposure: Exposure(
                    selector: "p-\(index)", optimizationName: "P\(index)", group: nil, kind: .personalization,
                    arm: "first", control: false, bucketVersion: 1, assignmentKey: "u\(visitor)"),
                timestamp: nowMilliseconds - 60_000, sessionId: "s\(visitor)")
        }
    }
    let request = DecisionRequest(
        identification: .init(sourceId: "1", profileId: "p\(visitor)", userId: visitor % 2 == 0 ? "u\(visitor)" : nil),
        names: visitor == 7 ? ["p-0", "x-2", "p-4"] : nil,
        device: visitor % 2 == 0 ? .mobile : .desktop, sessionId: "s\(visitor)",
        page: PageFacts(visitedURL: "http://shop.test/p/\(visitor)?utm_source=\(visitor % 2 == 0 ? "ads" : "mail")"))
    report("shapes visitor \(visitor)", shapes.choose(request, profile: view, now: now))
}

// The benchmark's scenarios.
for distinct in [false, true] {
    let scenario = ChooseScenario(distinctAudiences: distinct)
    report(
        "scenario distinct=\(distinct)",
        scenario.engine.choose(scenario.request, profile: scenario.profile, now: scenario.now))
    report(
        "scenario distinct=\(distinct), empty history",
        scenario.engine.choose(scenario.request, profile: ProfileView(), now: scenario.now))
}
