import Foundation
import Testing
import VeneerCore

/// Statistical properties over 100,000 synthetic visitors.
struct EngineStatisticsTests {
    static let visitors = 100_000

    static let optimizations = [
        Fixture.personalization("welcome", control: 5, experiences: [Fixture.experience("all")]),
        Fixture.experiment("cta", variants: [("control", 50), ("green", 30), ("blue", 20)]),
        Fixture.experiment("half", coverage: 40, variants: [("a", 50), ("b", 50)]),
    ]

    static func assignments(_ engine: Engine, selector: String) -> [String] {
        (0..<visitors).map { index in
            let request = Fixture.request(profile: "synthetic-\(index)")
            let decision = engine.choose(request, profile: ProfileView(), now: Fixture.now).decisions.first {
                $0.selector == selector
            }!
            switch decision.outcome {
            case .served(let arm): return arm
            case .control: return "(control)"
            case .skipped(let reason): return "(\(reason.rawValue))"
            }
        }
    }

    static func shares(_ arms: [String]) -> [String: Double] {
        var counts: [String: Int] = [:]
        for arm in arms { counts[arm, default: 0] += 1 }
        return counts.mapValues { Double($0) * 100 / Double(arms.count) }
    }

    @Test func controlShareIsWithinHalfAPointOfTheConfiguredPercent() {
        let shares = Self.shares(Self.assignments(Fixture.engine(Self.optimizations), selector: "welcome"))
        let control = shares["(control)"] ?? 0
        #expect(abs(control - 5) <= 0.5, "control share \(control)%")
        #expect(abs((shares["all"] ?? 0) - 95) <= 0.5)
    }

    @Test func experimentArmsAreWithinHalfAPointOfTheirWeights() {
        let shares = Self.shares(Self.assignments(Fixture.engine(Self.optimizations), selector: "cta"))
        for (arm, weight) in [("control", 50.0), ("green", 30.0), ("blue", 20.0)] {
            #expect(abs((shares[arm] ?? 0) - weight) <= 0.5, "\(arm): \(shares[arm] ?? 0)% vs \(weight)%")
        }
    }

    @Test func coverageEnrollsItsShareSplitByWeight() {
        let shares = Self.shares(Self.assignments(Fixture.engine(Self.optimizations), selector: "half"))
        #expect(abs((shares["(holdout)"] ?? 0) - 60) <= 0.5)
        #expect(abs((shares["a"] ?? 0) - 20) <= 0.5)
        #expect(abs((shares["b"] ?? 0) - 20) <= 0.5)
    }

    @Test func assignmentsAreStableAcrossCallsAndEngines() {
        let first = Self.assignments(Fixture.engine(Self.optimizations), selector: "cta")
        let second = Self.assignments(Fixture.engine(Self.optimizations), selector: "cta")
        #expect(first == second)
    }

    @Test func addingAnUnrelatedOptimizationChangesNoAssignment() {
        let before = Fixture.engine(Self.optimizations)
        let after = Fixture.engine(
            [Fixture.experiment("newcomer", variants: [("x", 10), ("y", 90)])] + Self.optimizations
                + [Fixture.personalization("other", control: 50, experiences: [Fixture.experience("e")])])
        for selector in ["welcome", "cta", "half"] {
            #expect(
                Self.assignments(before, selector: selector) == Self.assignments(after, selector: selector),
                "\(selector)")
        }
    }

    @Test func separateOptimizationsBucketIndependently() {
        // The same visitors split by two 50/50 experiments: each quarter near 25 %, not 50/0.
        let engine = Fixture.engine([
            Fixture.experiment("one", variants: [("a", 50), ("b", 50)]),
            Fixture.experiment("two", variants: [("a", 50), ("b", 50)]),
        ])
        let one = Self.assignments(engine, selector: "one")
        let two = Self.assignments(engine, selector: "two")
        let both = Self.shares(zip(one, two).map { "\($0)-\($1)" })
        for quarter in ["a-a", "a-b", "b-a", "b-b"] {
            #expect(abs((both[quarter] ?? 0) - 25) <= 0.75, "\(quarter): \(both[quarter] ?? 0)%")
        }
    }
}
