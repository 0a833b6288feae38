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

    /// Raises the calling thread's nice value to `niceness` (0…19) unless it is already higher. On Linux the nice
    /// value belongs to the thread and `who` 0 names the caller; elsewhere it would name the whole process, so
    /// nothing is done.
    public static func lowerCurrentThread(to niceness: Int32) {
        #if os(Linux)
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, max(current, niceness))
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
}
