import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// SQLite in one local file: WAL journal, one writer connection behind a gate, readers on their own
/// connections (WAL lets them read while the writer writes).
final class SQLiteBackend: SQLBackend {
    private let writer: SQLiteConnection
    private let readers: [SQLiteConnection]
    private let gate = AsyncGate()
    private let nextReader = ReaderCounter()

    /// Threads of this store alone: a connection waiting for another process's (or store's) lock sleeps on
    /// its own thread and never starves the connection that holds the lock. The writer has its own thread, at
    /// a lower priority: its commits are background work, and readers answer cache misses of pages in flight.
    private let writerThread: NIOThreadPool
    private let readerThreads: NIOThreadPool

    private init(
        writer: SQLiteConnection, readers: [SQLiteConnection], writerThread: NIOThreadPool,
        readerThreads: NIOThreadPool
    ) {
        self.writer = writer
        self.readers = readers
        self.writerThread = writerThread
        self.readerThreads = readerThreads
    }

    static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        let readerThreads = NIOThreadPool(numberOfThreads: 2)
        readerThreads.start()
        try await writerThread.runIfActive { ThreadPriority.lowerCurrentThread(to: ThreadPriority.background) }
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let writer = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: writerThread, logger: logger, on: loop)
        // Waiting for a lock held elsewhere sleeps (up to a minute) instead of spinning.
        _ = try await Self.run(writer, "PRAGMA busy_timeout = 60000", [])
        // WAL lets readers and the one writer work at once; FULL syncs each commit, so a 201 survives
        // a crash of the process and of the machine.
        _ = try await Self.run(writer, "PRAGMA journal_mode=WAL", [])
        _ = try await Self.run(writer, "PRAGMA synchronous=FULL", [])
        // A multi-row insert keeps a statement journal of the pages it changes; in memory it is a copy, in a
        // temporary file (SQLite's default past 64 KiB) a write per page.
        _ = try await Self.run(writer, "PRAGMA temp_store=MEMORY", [])
        // Event and exposure indexes are keyed by person, so a batch touches pages all over them: a larger page
        // cache (32 MiB) keeps them, and a checkpoint every 4,000 pages (about 16 MiB of WAL) copies a page
        // changed by many commits once instead of once per 1,000 pages.
        _ = try await Self.run(writer, "PRAGMA cache_size=-32768", [])
        _ = try await Self.run(writer, "PRAGMA wal_autocheckpoint=4000", [])
        var readers: [SQLiteConnection] = []
        for _ in 0..<2 {
            let reader = try await SQLiteConnection.open(
                storage: .file(path: path), threadPool: readerThreads, logger: logger, on: loop)
            _ = try await Self.run(reader, "PRAGMA busy_timeout = 60000", [])
            _ = try await Self.run(reader, "PRAGMA cache_size=-16384", [])
            readers.append(reader)
        }
        return SQLiteBackend(
            writer: writer, readers: readers, writerThread: writerThread, readerThreads: readerThreads)
    }

    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let reader = readers[nextReader.next() % readers.count]
        return try await Self.run(reader, sql, binds)
    }

    func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLSession) async throws -> Result
    ) async throws
        -> Result
    {
        let session = SQLiteSession(connection: writer)
        return try await gate.withLock {
            _ = try await Self.run(writer, "BEGIN IMMEDIATE", [])
            do {
                let result = try await body(session)
                _ = try await Self.run(writer, "COMMIT", [])
                return result
            } catch {
                _ = try? await Self.run(writer, "ROLLBACK", [])
                throw error
            }
        }
    }

    func close() async throws {
        for reader in readers { try await reader.close() }
        try await writer.close()
        try await writerThread.shutdownGracefully()
        try await readerThreads.shutdownGracefully()
    }

    static func run(_ connection: SQLiteConnection, _ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let rows = RowCollector()
        do {
            try await connection.query(Self.rewrite(sql), binds.map(Self.data)) { row in
                rows.append(row.columns.map { Self.value($0.data) })
            }
        } catch {
            throw StoreError(code: "database", message: "\(error) in \(sql.prefix(120))")
        }
        return rows.rows
    }

    /// `$1` → `?1`: SQLite numbers `?NNN` parameters exactly, whatever order they appear in.
    static func rewrite(_ sql: String) -> String {
        // Bytes, not Characters: this runs for every statement, and grapheme breaking costs more than SQLite's
        // own parse of it.
        var bytes = Array(sql.utf8)
        for index in bytes.indices.dropLast() where bytes[index] == UInt8(ascii: "$") {
            let next = bytes[index + 1]
            if next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") { bytes[index] = UInt8(ascii: "?") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: return .null
        case .integer(let integer): return .integer(SQLiteInt64(integer))
        case .double(let double): return .float(double)
        case .text(let text): return .text(text)
        }
    }

    static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .null: return .null
        case .integer(let integer): return .integer(Int64(integer))
        case .float(let double): return .double(double)
        case .text(let text): return .text(text)
        case .blob(let buffer): return .text(String(buffer: buffer))
        }
    }
}

private struct SQLiteSession: SQLSession {
    let connection: SQLiteConnection

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await SQLiteBackend.run(connection, sql, binds)
    }
}

/// Collects rows from SQLiteNIO's row callback, which runs on its thread pool.
private final class RowCollector: @unchecked Sendable {
    // Written only from the one thread-pool job that runs the statement, read after it finishes.
    var rows: [SQLRow] = []
    func append(_ row: SQLRow) { rows.append(row) }
}

private final class ReaderCounter: Sendable {
    private let counter = Mutex(0)
    func next() -> Int {
        counter.withLock { value in
            value &+= 1
            return value & Int.max
        }
    }
}
