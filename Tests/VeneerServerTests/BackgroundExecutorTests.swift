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

    /// Its thread also keeps a core for a short slice only, where the kernel tells slices (Linux 6.12 and later).
    @Test func itsThreadHasAShortSlice() async throws {
        let executor = BackgroundExecutor(niceness: 7)
        let outside = ThreadPriority.currentSlice
        let inside = await withTaskExecutorPreference(executor) { ThreadPriority.currentSlice }
        if let outside, let inside {
            #expect(inside == ThreadPriority.backgroundSlice)
            #expect(outside > inside, "the caller's thread keeps the kernel's slice: \(outside)")
            #expect(ThreadPriority.currentSlice == outside)
        } else {
            print("BackgroundExecutorTests: slices not checked, this kernel does not report them (before Linux 6.12)")
            #expect(inside == nil)
        }
        try await executor.shutdown()
    }
}
