import NIOCore
import NIOPosix
import VeneerStore

/// A task executor with one thread of its own at a lower scheduling priority: the reporter's store writes run
/// there, so that when the cores are busy the event loops serving pages go first.
///
/// ```swift
/// let executor = BackgroundExecutor(niceness: 5)
/// await withTaskExecutorPreference(executor) { await storeLoop() }
/// try await executor.shutdown()
/// ```
final class BackgroundExecutor: TaskExecutor {
    private let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop

    init(niceness: Int32) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        loop.execute { ThreadPriority.lowerCurrentThread(to: niceness) }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `body` on the executor's thread after `delay`. A tick scheduled here wakes only that thread, where
    /// `Task.sleep` wakes the global executor's timer thread and a worker first.
    func schedule(in delay: Duration, _ body: @escaping @Sendable () -> Void) {
        loop.scheduleTask(in: TimeAmount(delay)) { body() }
    }

    /// The thread's nice value, read on it.
    func niceness() async throws -> Int32 {
        try await loop.submit { ThreadPriority.currentNiceness }.get()
    }

    func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}
