import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// SQLite in one local file, through the system's libsqlite3: WAL journal, one writer connection behind a gate,
/// readers on their own connections (WAL lets them read while the writer writes), one of them for background
/// reads. Each connection keeps its prepared statements, and the store cuts its many-row statements into
/// power-of-two runs so that they are few: a statement is parsed once, not once per batch (parsing was about a
/// quarter of the writer's time).
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
    /// Background reads (`StoreReadPriority.isBackground`): a connection on a thread of their own at the writer's
    /// priority. A profile cache refresh of a long history reads for milliseconds, and at normal priority that
    /// took a core from the pages in flight. One thread: refreshes in flight beyond one wait their turn on it, so
    /// that background reads never take more than a core.
    private let backgroundReader: SQLiteConnection
    private let backgroundThread: NIOThreadPool

    private init(
        writer: SQLiteConnection, readers: [SQLiteConnection], writerThread: NIOThreadPool,
        readerThreads: NIOThreadPool, backgroundReader: SQLiteConnection, backgroundThread: NIOThreadPool
    ) {
        self.writer = writer
        self.readers = readers
        self.writerThread = writerThread
        self.readerThreads = readerThreads
        self.backgroundReader = backgroundReader
        self.backgroundThread = backgroundThread
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
        let backgroundThread = NIOThreadPool(numberOfThreads: 1)
        backgroundThread.start()
        do {
            try await writerThread.runIfActive { ThreadPriority.lowerCurrentThread(to: ThreadPriority.background) }
            let writer = try await writerThread.runIfActive { try SQLiteConnection(path: path) }
            // Waiting for a lock held elsewhere sleeps (up to a minute) instead of spinning.
            _ = try await run(writer, on: writerThread, "PRAGMA busy_timeout = 60000", [])
            // WAL lets readers and the one writer work at once; FULL syncs each commit, so a 201 survives
            // a crash of the process and of the machine.
            _ = try await run(writer, on: writerThread, "PRAGMA journal_mode=WAL", [])
            _ = try await run(writer, on: writerThread, "PRAGMA synchronous=FULL", [])
            // A multi-row insert keeps a statement journal of the pages it changes; in memory it is a copy, in a
            // temporary file (SQLite's default past 64 KiB) a write per page.
            _ = try await run(writer, on: writerThread, "PRAGMA temp_store=MEMORY", [])
            // Event and exposure indexes are keyed by person, so a batch touches pages all over them: a larger
            // page cache (32 MiB) keeps them, and a checkpoint every 4,000 pages (about 16 MiB of WAL) copies a
            // page changed by many commits once instead of once per 1,000 pages.
            _ = try await run(writer, on: writerThread, "PRAGMA cache_size=-32768", [])
            _ = try await run(writer, on: writerThread, "PRAGMA wal_autocheckpoint=4000", [])
            var readers: [SQLiteConnection] = []
            for _ in 0..<2 { readers.append(try await openReader(path: path, on: readerThreads)) }
            try await backgroundThread.runIfActive {
                ThreadPriority.lowerCurrentThread(to: ThreadPriority.background)
            }
            let backgroundReader = try await openReader(path: path, on: backgroundThread)
            return SQLiteBackend(
                writer: writer, readers: readers, writerThread: writerThread, readerThreads: readerThreads,
                backgroundReader: backgroundReader, backgroundThread: backgroundThread)
        } catch {
            try? await writerThread.shutdownGracefully()
            try? await readerThreads.shutdownGracefully()
            try? await backgroundThread.shutdownGracefully()
            throw error
        }
    }

    /// A read connection, opened on `thread` and set up there.
    private static func openReader(path: String, on thread: NIOThreadPool) async throws -> SQLiteConnection {
        let reader = try await thread.runIfActive { try SQLiteConnection(path: path) }
        _ = try await run(reader, on: thread, "PRAGMA busy_timeout = 60000", [])
        _ = try await run(reader, on: thread, "PRAGMA cache_size=-16384", [])
        return reader
    }

    func read(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let (reader, thread) = readerForThisRead()
        return try await Self.run(reader, on: thread, sql, binds)
    }

    /// The connection and thread a read in the calling task goes to.
    private func readerForThisRead() -> (SQLiteConnection, NIOThreadPool) {
        if StoreReadPriority.isBackground { return (backgroundReader, backgroundThread) }
        return (readers[nextReader.next() % readers.count], readerThreads)
    }

    /// The nice value of the thread that a read in the calling task runs on (for tests).
    func readerThreadNiceness() async throws -> Int32 {
        try await readerForThisRead().1.runIfActive { ThreadPriority.currentNiceness }
    }

    func transaction<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLSession) async throws -> Result
    ) async throws
        -> Result
    {
        let session = SQLiteSession(connection: writer, thread: writerThread)
        return try await gate.withLock {
            _ = try await session.query("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(session)
                _ = try await session.query("COMMIT", [])
                return result
            } catch {
                _ = try? await session.query("ROLLBACK", [])
                throw error
            }
        }
    }

    func close() async throws {
        for reader in readers { try await readerThreads.runIfActive { reader.close() } }
        try await backgroundThread.runIfActive { self.backgroundReader.close() }
        try await writerThread.runIfActive { self.writer.close() }
        try await writerThread.shutdownGracefully()
        try await readerThreads.shutdownGracefully()
        try await backgroundThread.shutdownGracefully()
    }

    /// Runs one statement on a thread of `pool`: SQLite blocks while it works (and while it waits for a lock).
    static func run(
        _ connection: SQLiteConnection, on pool: NIOThreadPool, _ sql: String, _ binds: [SQLValue]
    ) async throws -> [SQLRow] {
        let statement = rewrite(sql)
        return try await pool.runIfActive { try connection.run(statement, binds) }
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
}

private struct SQLiteSession: SQLSession {
    let connection: SQLiteConnection
    let thread: NIOThreadPool
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await SQLiteBackend.run(connection, on: thread, sql, binds)
    }
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
