import Foundation
import Testing
import VeneerServer
import VeneerTestSupport

/// A small run of `scripts/crash-test`: `veneer serve` killed with SIGKILL and restarted while API events
/// and page views flow; afterwards every event answered 201 and every personalized response completed is in
/// the store exactly once.
@Suite("Reporter: crash test", .timeLimit(.minutes(3)))
struct ReporterCrashTests {
    @Test(.timeLimit(.minutes(5)))
    func nothingLostNothingDoubledAcrossSIGKILL() async throws {
        let root = RestartablePostgres.repositoryRoot
        let binary = root + "/.build/debug/veneer"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            print("crash test NOT RUN: \(binary) is not built (swift build --product veneer builds it)")
            return
        }
        let result = try await ChildProcess.runDetached(
            "/bin/bash",
            [root + "/scripts/crash-test", "--events", "3000", "--views", "800", "--kills", "2", "--binary", binary])
        let (status, output) = (result.status, result.output)
        print(output)
        if status != 0 { print("crash-test exit status \(status); stderr:\n\(result.errors)") }
        // The API half: every event answered 201 is stored, once.
        #expect(output.contains("3000 events answered 201, 3000 stored, 0 missing, 0 doubled"))
        // The proxy half: no response is counted twice …
        #expect(output.contains(" 0 profiles with more than one per request sent"))
        // … and none is lost: the proxy journals a page's events before it writes the response's end.
        #expect(status == 0 && output.contains("crash-test: PASS"), "\(output)")
    }
}
