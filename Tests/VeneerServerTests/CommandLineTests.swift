import Foundation
import Testing
import VeneerCore
import VeneerTestSupport

/// Issue 2, points 3 and 6: `veneer check` and `veneer choose` as a user runs them — the built executable,
/// its exit status, and what it prints.
@Suite("Command line: check and choose", .timeLimit(.minutes(3)))
struct CommandLineTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let invalid = repository + "/Tests/VeneerCoreTests/Fixtures/configs/invalid"

    /// Runs `veneer` with these arguments; returns the exit status, standard output and standard error.
    static func veneer(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        let result = try await ChildProcess.runDetached(try VeneerProcess.binary(), arguments)
        return (result.status, result.output, result.errors)
    }

    @Test("check: the repository's proxy.conf is valid and summarized on one line")
    func checkValid() async throws {
        let result = try await Self.veneer(["check", "--config", Self.repository + "/proxy.conf"])
        #expect(result.status == 0)
        #expect(
            result.output.hasSuffix(
                "proxy.conf: OK — 1 route, 4 personalizations, 1 experiment, 4 experiences, 2 variants, 0 segments, 3 templates\n"
            ))
    }

    @Test("check: every problem of a file, each with file, line, key path and what is allowed; exit 1")
    func checkInvalid() async throws {
        let file = Self.invalid + "/many-errors.conf"
        let result = try await Self.veneer(["check", "--config", file])
        #expect(result.status == 1)
        let lines = (result.output + result.errors).split(separator: "\n").map(String.init)
        let expected = [
            "\(file):3: origin.timeout: invalid duration \"soon\"",
            "\(file):12: personalization[0].experience[0].display: unknown display mode \"sometimes\"; allowed: always, once, once-per-visit",
            "\(file):13: personalization[0].experience[0].devices: unknown device \"watch\"; allowed: all, mobile, desktop",
            "\(file):15: experiment[0].selector: duplicate selector \"welcome-back\"",
            "\(file):19: experiment[0].variant: variant weights sum to 120 (60 + 60), not 100",
            "\(file):22: experiment[0].variant[0].colour: unknown key \"colour\"",
        ]
        for prefix in expected {
            #expect(lines.contains { $0.hasPrefix(prefix) }, "missing \(prefix) in \(lines)")
        }
        #expect(lines.last == "\(file): 6 problems")
    }

    @Test("check: a file that is not there names itself; exit 1")
    func checkMissing() async throws {
        let result = try await Self.veneer(["check", "--config", "/nonexistent/proxy.conf"])
        #expect(result.status == 1)
        #expect((result.output + result.errors).contains("/nonexistent/proxy.conf: cannot read the file"))
    }

    @Test("choose: the decision for one visitor and the reason for every optimization")
    func chooseText() async throws {
        let folder = TestScratch.root.appendingPathComponent("veneer-choose-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"user": {"first_name": "Ada"}, "events": [{"name": "View Page", "timestamp": "2026-11-20T10:00:00Z"}]}"#
            .write(toFile: folder + "/visitor.json", atomically: true, encoding: .utf8)
        let arguments = [
            "choose", "--config", Self.repository + "/proxy.conf", "--profile", "p1", "--session", "s1",
            "--attributes", folder + "/visitor.json", "--url", "http://localhost:8080/?utm_source=newsletter",
            "--at", "2026-11-25T12:00:00Z",
        ]
        let text = try await Self.veneer(arguments)
        #expect(text.status == 0)
        #expect(
            text.output.contains(
                "welcome-back (personalization, group banner): served experience \"Returning visitor\""))
        #expect(text.output.contains("Hey Ada! We've missed you at Otto!"))
        #expect(
            text.output.contains(
                "newsletter-hero (personalization, group hero): served experience \"Newsletter reader\""))
        #expect(text.output.contains("mobile-app-bar (personalization, group banner): skipped: device"))
        #expect(text.output.contains("winter-redirect (personalization, group redirect): skipped: not-targeted"))
        #expect(text.output.contains("checkout-cta (experiment, group cta): served variant"))

        // The same decision as JSON; bucketing is deterministic, so the two agree on the variant.
        let json = try await Self.veneer(arguments + ["--json"])
        #expect(json.status == 0)
        let decisions = try #require(try JSONValue(jsonData: Data(json.output.utf8))["decisions"]?.arrayValue)
        #expect(decisions.count == 5)
        let cta = try #require(decisions.first { $0["name"]?.stringValue == "Checkout CTA" })
        let arm = try #require(cta["arm"]?.stringValue)
        #expect(text.output.contains("served variant \"\(arm)\""))
        let appBar = try #require(decisions.first { $0["name"]?.stringValue == "Mobile app bar" })
        #expect(appBar["outcome"]?.stringValue == "skipped")
        #expect(appBar["reason"]?.stringValue == "device")
    }

    @Test(
        "choose: a bad argument is a usage error that says what is allowed",
        arguments: [
            (["--device", "tv"], "--device must be all, mobile or desktop, not \"tv\""),
            (["--attributes", "/nonexistent/visitor.json"], "cannot read /nonexistent/visitor.json"),
        ])
    func chooseBadArguments(extra: [String], message: String) async throws {
        let result = try await Self.veneer(
            ["choose", "--config", Self.repository + "/proxy.conf", "--profile", "p1"] + extra)
        #expect(result.status == 64)
        #expect(result.errors.contains(message), "\(result.errors)")
        #expect(result.output.isEmpty)
    }
}
