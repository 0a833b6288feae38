import Foundation
import Testing
import VeneerCore
import VeneerServer
import VeneerStore

/// Two Veneer instances (API listener, cache, reporter, store each) on one PostgreSQL database.
@Suite("API: two instances, one PostgreSQL", .timeLimit(.minutes(3)))
struct APISharedPostgresTests {
    /// A fresh database on the server `VENEER_TEST_POSTGRES_URL` names, or on one started for this test.
    static func freshDatabase() async throws -> (url: String, server: RestartablePostgres?)? {
        var server: RestartablePostgres?
        var base = ProcessInfo.processInfo.environment["VENEER_TEST_POSTGRES_URL"] ?? ""
        if base.isEmpty {
            guard let started = try await RestartablePostgres.start() else { return nil }
            server = started
            base = started.url
        }
        let name = "veneer_shared_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        let psql =
            FileManager.default.isExecutableFile(atPath: "/usr/bin/psql")
            ? "/usr/bin/psql" : "/usr/lib/postgresql/15/bin/psql"
        try await RestartablePostgres.runDetached(psql, [base, "-q", "-c", "CREATE DATABASE \(name)"])
        var components = try #require(URLComponents(string: base))
        components.path = "/\(name)"
        return (try #require(components.string), server)
    }

    private func choose(_ server: APITestServer, profile: String, names: [String]) async throws -> [JSONValue] {
        let list = names.map { "\"\($0)\"" }.joined(separator: ",")
        let reply = try await server.post(
            "/optimization/choose-api",
            #"{"identification":{"sourceId":"\#(APITestServer.sourceId)","profileId":"\#(profile)"},"names":[\#(list)],"sessionId":"s-\#(profile)"}"#
        )
        #expect(reply.status == 200)
        return reply.json?["choices"]?.arrayValue ?? []
    }

    @Test func aOnceExperienceAndAStickyArmHoldAcrossInstances() async throws {
        guard let (url, server) = try await Self.freshDatabase() else {
            print("two-instance test NOT RUN: no PostgreSQL (see the reason above)")
            return
        }
        defer { server?.remove() }
        // Instance A always buckets to grey, instance B to green: only the stored sticky arm can make B agree.
        let first = try await APITestServer.start(storeURL: url, weights: (100, 0))
        let second = try await APITestServer.start(storeURL: url, weights: (0, 100))
        do {
            let shown = try await choose(first, profile: "shared-1", names: ["welcome", "checkout-cta"])
            #expect(Set(shown.compactMap { $0["name"]?.stringValue }) == ["welcome", "checkout-cta"])
            #expect(shown.first { $0["name"] == "checkout-cta" }?["group"] == "grey")
            try await first.settle()

            let onSecond = try await choose(second, profile: "shared-1", names: ["welcome", "checkout-cta"])
            #expect(onSecond.map { $0["name"] } == ["checkout-cta"])  // `welcome` was shown once, on A
            #expect(onSecond.first?["group"] == "grey")  // A's sticky arm, not B's bucketing
            // A newcomer on B gets B's arm, and then keeps it on A.
            let newcomer = try await choose(second, profile: "shared-2", names: ["checkout-cta"])
            #expect(newcomer.first?["group"] == "green")
            try await second.settle()
            #expect(try await choose(first, profile: "shared-2", names: ["checkout-cta"]).first?["group"] == "green")

            // The race: the same new person asks both instances at the same moment. Each decides before either
            // exposure is stored, so a `once` experience can be shown by both; measure how often.
            var doubled = 0
            let people = 20
            for index in 0..<people {
                async let onA = choose(first, profile: "race-\(index)", names: ["welcome"])
                async let onB = choose(second, profile: "race-\(index)", names: ["welcome"])
                let (a, b) = try await (onA, onB)
                if !a.isEmpty && !b.isEmpty { doubled += 1 }
            }
            print(
                "two-instance race: \(doubled) of \(people) simultaneous first requests showed a `once` experience on both instances"
            )
            try await first.settle()
            try await second.settle()
            // Once both exposures are stored, neither instance shows it again.
            for index in 0..<people {
                #expect(try await choose(first, profile: "race-\(index)", names: ["welcome"]).isEmpty)
            }
        } catch {
            try? await first.stop()
            try? await second.stop()
            throw error
        }
        try await first.stop()
        try await second.stop()
    }
}
