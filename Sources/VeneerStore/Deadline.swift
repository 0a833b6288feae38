import Synchronization

/// Runs `body`, which calls `leased()` once it holds a connection; throws a `timeout` StoreError if that has
/// not happened within `limit`. A database that is down makes the pool wait for ever; a slow but working
/// one must not be cut off mid-transaction.
func withLeaseDeadline<Result: Sendable>(
    _ limit: Duration, _ what: String,
    _ body: @escaping @Sendable (@escaping @Sendable () -> Void) async throws -> Result
) async throws -> Result {
    let leased = LeaseFlag()
    return try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body { leased.set() } }
        group.addTask {
            try await Task.sleep(for: limit)
            if !leased.isSet { throw StoreError(code: "timeout", message: "waited \(limit) for \(what) and got none") }
            return nil
        }
        defer { group.cancelAll() }
        while let next = try await group.next() {
            if let result = next { return result }
        }
        throw StoreError(code: "timeout", message: "\(what) ended without a result")
    }
}

private final class LeaseFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
