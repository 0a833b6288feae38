/// Runs `body`, or throws a `timeout` StoreError once `limit` has passed (the body is then cancelled).
func withDeadline<Result: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw StoreError(code: "timeout", message: "\(what) took longer than \(limit)")
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else {
            throw StoreError(code: "timeout", message: "\(what) ended without a result")
        }
        return result
    }
}
