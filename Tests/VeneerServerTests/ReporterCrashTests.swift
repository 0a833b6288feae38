import Foundation
import Testing
import VeneerServer

/// A small run of `scripts/crash-test`: `veneer serve` killed with SIGKILL and restarted while API events
/// and page views flow; afterwards every event answered 201 and every personalized response completed is in
/// the store exactly once.
@Suite("Reporter: crash test")
struct ReporterCrashTests {
    @Test(.timeLimit(.minutes(5)))
    func nothingLostNothingDoubledAcrossSIGKILL() async throws {
        let root = RestartablePostgres.repositoryRoot
        let binary = root + "/.build/debug/veneer"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("crash test NOT RUN: \(binary) is not built (swift build --product veneer builds it)")
            return
        }
        let (status, output) = try await RestartablePostgres.runDetachedReturningStatus(
            "/bin/bash", [root + "/scripts/crash-test", "--events", "3000", "--views", "800", "--kills", "2", "--binary", binary])
        print(output)
        // The API half: every event answered 201 is stored, once.
        #expect(output.contains("3000 events answered 201, 3000 stored, 0 missing, 0 doubled"))
        // The proxy half: no response is counted twice …
        #expect(output.contains(" 0 profiles with more than one"))
        // … and none is lost, except in one window the reporter cannot close: the proxy submits a page's
        // events only after it has written the response's end (ProxyHandler+Response.swift), so a SIGKILL
        // between the two loses that page's View Page and exposure.
        withKnownIssue("page events are submitted after the response is flushed", isIntermittent: true) {
            #expect(status == 0 && output.contains("crash-test: PASS"))
        }
    }
}
