public import Logging

/// Opens the store a `[store] url` names: `sqlite:PATH` (a file, created with its folder) or
/// `postgres://user:password@host:port/database`. Migrations run before it returns.
///
/// ```swift
/// let store = try await StoreFactory.open(url: config.store.url, logger: logger)
/// defer { Task { try await store.close() } }
/// ```
public enum StoreFactory {
    public static func open(url: String, logger: Logger) async throws -> any Store {
        let backend: any SQLBackend
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw StoreError(code: "bad-url", message: "sqlite: needs a file path") }
            backend = try await SQLiteBackend.open(path: path, logger: logger)
        } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            backend = try await PostgresBackend.open(url: url, logger: logger)
        } else {
            throw StoreError(code: "bad-url", message: "store url must start with sqlite: or postgres://, got \(url)")
        }
        do {
            try await Migrations.apply(on: backend)
        } catch {
            try? await backend.close()
            throw error
        }
        return RelationalStore(backend: backend, logger: logger)
    }
}
