import Testing
import VeneerStore

@testable import VeneerServer

/// The reporter's store writes run on a thread of their own at a lower priority; nothing else is lowered.
@Suite("Background executor")
struct BackgroundExecutorTests {
    @Test func tasksPreferringItRunOnItsLowerPriorityThread() async throws {
        let executor = BackgroundExecutor(niceness: 7)
        let outside = ThreadPriority.currentNiceness
        let inside = await withTaskExecutorPreference(executor) { ThreadPriority.currentNiceness }
        #if os(Linux)
        #expect(inside == max(7, outside))
        #expect(try await executor.niceness() == inside)
        #endif
        #expect(ThreadPriority.currentNiceness == outside, "the caller's thread keeps its priority")
        try await executor.shutdown()
    }
}
