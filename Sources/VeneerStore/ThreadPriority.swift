import CScheduler
import Foundation

/// Scheduling priority of the calling thread, for background work (store writes) that should give the cores to
/// the event loops when both are busy.
///
/// ```swift
/// try await writerThread.runIfActive { ThreadPriority.lowerCurrentThread(to: ThreadPriority.background) }
/// ```
public enum ThreadPriority {
    /// The nice value of store writes: the SQLite writer's thread and the reporter's. Low enough that the event
    /// loops go first when the cores are busy, high enough that the store keeps up with a saturated proxy.
    public static let background: Int32 = 5

    /// The scheduler slice of a lowered thread. A nice value shares the cores out over time, but says nothing of how
    /// long a thread that has a core keeps it: with the kernel's default slice (1.4 ms on two cores, looked at again
    /// at the next 4 ms tick), a store commit kept a core for up to 3 ms from the event loop, the origin or the
    /// client that had just been woken on it (measured with `perf sched timehist` at one connection). With a
    /// 0.1 ms slice, a thread woken there takes the core at once.
    public static let backgroundSlice: Duration = .microseconds(100)

    /// Raises the calling thread's nice value to `niceness` (0…19) unless it is already higher, and shortens its
    /// slice to `backgroundSlice` where the kernel allows it (Linux 6.12 and later). On Linux the nice value belongs
    /// to the thread and `who` 0 names the caller; elsewhere it would name the whole process, so nothing is done.
    public static func lowerCurrentThread(to niceness: Int32) {
        #if os(Linux)
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let lowered = max(current, niceness)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, lowered)
        let slice = backgroundSlice.components
        _ = veneer_set_current_thread_slice(
            lowered, UInt64(slice.seconds) * 1_000_000_000 + UInt64(slice.attoseconds / 1_000_000_000))
        #endif
    }

    /// The calling thread's nice value (0 where threads have none of their own).
    public static var currentNiceness: Int32 {
        #if os(Linux)
        return getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #else
        return 0
        #endif
    }

    /// The calling thread's scheduler slice, or nil where the kernel does not tell it.
    public static var currentSlice: Duration? {
        let nanoseconds = veneer_current_thread_slice()
        return nanoseconds == 0 ? nil : .nanoseconds(Int64(nanoseconds))
    }
}
