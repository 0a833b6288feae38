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
}
