import Foundation
import Testing
import VeneerCore

/// GrowthBook's published vectors (Fixtures/growthbook-bucketing.json; source line inside the file).
struct BucketingTests {
    struct Vectors: Decodable {
        let hash: [[JSONValue]]
        let getBucketRange: [[JSONValue]]
        let chooseVariation: [[JSONValue]]
        let getEqualWeights: [[JSONValue]]
    }

    static let vectors: Vectors = {
        let url = Bundle.module.url(
            forResource: "growthbook-bucketing", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Vectors.self, from: Data(contentsOf: url))
    }()

    @Test func hashMatchesGrowthBookVectors() {
        #expect(Self.vectors.hash.count >= 10)
        for vector in Self.vectors.hash {
            let seed = vector[0].stringValue!
            let value = vector[1].stringValue!
            let version = Int(vector[2].numberValue!)
            let result = Bucketing.hash(seed: seed, value: value, version: version)
            if let expected = vector[3].numberValue {
                let actual = try! #require(result, "hash(\(seed), \(value), v\(version))")
                #expect(abs(actual - expected) < 1e-9, "hash(\(seed), \(value), v\(version))")
            } else {
                #expect(result == nil, "unknown version \(version) must give nil")
            }
        }
    }

    @Test func bucketRangesMatchGrowthBookVectors() {
        #expect(!Self.vectors.getBucketRange.isEmpty)
        for vector in Self.vectors.getBucketRange {
            let arguments = vector[1].arrayValue!
            let count = Int(arguments[0].numberValue!)
            let coverage = arguments[1].numberValue!
            let weights = arguments[2].arrayValue?.map { $0.numberValue! }
            let expected = vector[2].arrayValue!.map { pair in pair.arrayValue!.map { $0.numberValue! } }
            let actual = Bucketing.bucketRanges(count: count, coverage: coverage, weights: weights)
            #expect(actual.count == expected.count, "\(vector[0].text)")
            for (range, bounds) in zip(actual, expected) {
                #expect(
                    abs(range.lowerBound - bounds[0]) < 1e-9 && abs(range.upperBound - bounds[1]) < 1e-9,
                    "\(vector[0].text): \(range) vs \(bounds)")
            }
        }
    }

    @Test func chooseVariationMatchesGrowthBookVectors() {
        #expect(!Self.vectors.chooseVariation.isEmpty)
        for vector in Self.vectors.chooseVariation {
            let n = vector[1].numberValue!
            let ranges = vector[2].arrayValue!.map { pair in
                pair.arrayValue![0].numberValue!...pair.arrayValue![1].numberValue!
            }
            #expect(Bucketing.chooseVariation(n, ranges: ranges) == Int(vector[3].numberValue!), "\(vector[0].text)")
        }
    }

    @Test func equalWeightsMatchGrowthBookVectors() {
        for vector in Self.vectors.getEqualWeights {
            let expected = vector[1].arrayValue!.map { $0.numberValue! }
            let actual = Bucketing.equalWeights(count: Int(vector[0].numberValue!))
            #expect(actual.count == expected.count)
            for (left, right) in zip(actual, expected) { #expect(abs(left - right) < 1e-6) }
        }
    }

    /// Assignments computed by an independent implementation (scripts/reference-bucketing.py, Python) must
    /// match: the arm of a visitor is reproducible outside this process and outside Swift.
    @Test func assignmentsMatchIndependentReference() throws {
        let url = try #require(
            Bundle.module.url(forResource: "reference-assignments", withExtension: "json", subdirectory: "Fixtures"))
        let cases = try JSONDecoder().decode([[String: JSONValue]].self, from: Data(contentsOf: url))
        #expect(cases.count >= 50)
        let engine = Fixture.engine([
            Fixture.experiment("checkout-cta", variants: [("control", 34), ("green", 33), ("blue", 33)]),
            Fixture.experiment("checkout-cta-v2", bucketVersion: 2, variants: [("control", 50), ("green", 50)]),
        ])
        for item in cases {
            let request = Fixture.request(profile: item["profileId"]!.stringValue!, user: item["userId"]?.stringValue)
            let result = engine.choose(request, profile: ProfileView(), now: Fixture.now)
            for decision in result.decisions {
                #expect(decision.servedArm == item[decision.selector]?.stringValue, "\(item) \(decision.selector)")
            }
        }
    }
}
