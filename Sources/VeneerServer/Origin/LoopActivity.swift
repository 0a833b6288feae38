import Synchronization

/// How many proxy exchanges of one event loop are in progress. A page sent while it arrives goes out in an early
/// piece only when its exchange is the loop's only one: alone, the loop would otherwise leave the client's core idle
/// long enough for a virtual machine to park it; with others in progress, the extra write buys nothing.
///
/// Atomic because an exchange's last reference may go on another thread (a rewrite job on the thread pool).
///
/// ```swift
/// let activity = LoopActivity()
/// activity.exchangeStarted()
/// if activity.isAlone { /* send a first piece now */ }
/// ```
final class LoopActivity: Sendable {
    private let exchanges = Atomic<Int>(0)

    func exchangeStarted() {
        exchanges.add(1, ordering: .relaxed)
    }

    func exchangeEnded() {
        exchanges.subtract(1, ordering: .relaxed)
    }

    /// At most one exchange in progress: the caller's.
    var isAlone: Bool { exchanges.load(ordering: .relaxed) <= 1 }
}
