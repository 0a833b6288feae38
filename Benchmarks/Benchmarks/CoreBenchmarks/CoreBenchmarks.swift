import Benchmark
import ChooseScenario
import Foundation
import VeneerCore

// One `choose` over 100 running optimizations with mixed audiences, for a visitor whose history holds
// 1,000 events. Event conditions read per-event summaries, so the history's length does not matter.
// `choose` renders every served decision's payload, and the result (decisions, payloads) is built and
// released in each iteration. Issue 2's goal: p99 under 20 µs for the first benchmark.
//   cd Benchmarks && swift package --allow-writing-to-package-directory benchmark --target CoreBenchmarks
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(5),
        maxIterations: 200_000
    )

    let setup = ChooseScenario()
    Benchmark("choose: 100 optimizations, 1,000-event history") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(setup.engine.choose(setup.request, profile: setup.profile, now: setup.now))
        }
    }
    Benchmark("choose: 100 optimizations, empty history") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(setup.engine.choose(setup.request, profile: ProfileView(), now: setup.now))
        }
    }
    // The engine evaluates each distinct audience once per call, and the scenario above reuses 15 audiences;
    // here every optimization and arm has audiences of its own (the same kinds of conditions, constants made
    // unique), so only attribute, request and event lookups are shared.
    let distinct = ChooseScenario(distinctAudiences: true)
    Benchmark("choose: 100 optimizations, 1,000-event history, no shared audiences") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(distinct.engine.choose(distinct.request, profile: distinct.profile, now: distinct.now))
        }
    }
    // What the proxy writes twice per exposure: the event's data as JSON, once in the journal line and once in
    // the store's `data` column.
    let exposure = Exposure(
        selector: "welcome-back", optimizationName: "Welcome back", group: nil, kind: .personalization,
        arm: "Returning visitor", control: false, bucketVersion: 1, assignmentKey: "p:v00000000000000000000000000000001"
    )
    let event = TrackEvent.exposure(
        exposure, eventId: "0193a5f4c2e07a1b9c3d4e5f60718293", timestamp: 1_764_000_000_000,
        profileId: "v00000000000000000000000000000001", userId: nil, sessionId: "s00000000000000000000000000000001",
        url: "http://127.0.0.1:18080/personal/100k.html", device: .desktop, applied: true)
    Benchmark("JSON: an exposure event's data as text") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(JSONValue.object(event.data).jsonText())
        }
    }
    Benchmark("JSON: an exposure event's data appended to a String") { benchmark in
        for _ in benchmark.scaledIterations {
            var text = ""
            JSONValue.object(event.data).write(into: &text)
            blackHole(text)
        }
    }
    Benchmark("JSON: an exposure event's data appended as bytes") { benchmark in
        for _ in benchmark.scaledIterations {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(512)
            JSONValue.object(event.data).write(into: &bytes)
            blackHole(bytes)
        }
    }
}
