import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
import VeneerCore
import VeneerServer
import VeneerStore
import VeneerTestSupport

@Suite("Reporter", .timeLimit(.minutes(3)))
struct ReporterTests {
    static func folder() throws -> String {
        let path = TestScratch.root.appendingPathComponent("veneer-reporter-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func settings(
        _ folder: String, batchSize: Int = 10, interval: Duration = .milliseconds(20), queueLimit: Int = 100_000,
        forward: String = ""
    ) -> EventSettings {
        var settings = EventSettings()
        settings.batchSize = batchSize
        settings.batchInterval = interval
        settings.queueLimit = queueLimit
        settings.spoolDirectory = folder + "/spool"
        settings.forwardURL = forward
        settings.forwardKey = forward.isEmpty ? "" : "fwd.secret"
        return settings
    }

    static func views(_ count: Int, prefix: String, profiles: Int = 10) -> [TrackEvent] {
        (0..<count).map {
            TrackEvent(
                eventId: "\(prefix)-\($0)", name: TrackEvent.viewPageName, timestamp: 1_780_000_000_000 + Int64($0),
                sourceId: "1", profileId: "p\($0 % profiles)", sessionId: "s1",
                data: ["url": .string("http://shop.test/\($0)")])
        }
    }

    static func storedCount(_ store: any Store, profiles: Int = 10) async throws -> Int {
        var total = 0
        for index in 0..<profiles { total += try await store.person("p\(index)")?.eventCount ?? 0 }
        return total
    }

    static func waitUntil(_ seconds: Double = 20, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// A reporter started on what an earlier one left in `folder` stores exactly `count` events, all by replay.
    static func expectANewReporterReplays(_ count: Int, folder: String, store: any Store) async throws {
        let next = Reporter(settings: Self.settings(folder), store: store, logger: APITestServer.logger)
        let running = Task { try await next.run() }
        #expect(try await Self.waitUntil { try await Self.storedCount(store) == count })
        next.stop()
        try await running.value
        #expect(next.statistics.replayed == count)
        #expect(try await Self.storedCount(store) == count)
    }

    /// A running reporter on a new SQLite store in `folder`.
    static func runningReporter(
        _ folder: String, batchSize: Int, interval: Duration
    ) async throws -> (store: any Store, reporter: Reporter, running: Task<Void, any Error>) {
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        let reporter = Reporter(
            settings: Self.settings(folder, batchSize: batchSize, interval: interval), store: store,
            logger: APITestServer.logger)
        return (store, reporter, Task { try await reporter.run() })
    }

    @Test func submittedEventsReachTheStoreInBatchesAndTheJournalIsCleanedUp() async throws {
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        let reporter = Reporter(settings: Self.settings(folder), store: store, logger: APITestServer.logger)
        let running = Task { try await reporter.run() }
        for event in Self.views(500, prefix: "b") { reporter.submit(event) }
        #expect(try await Self.waitUntil { reporter.statistics.stored == 500 })
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 500)
        #expect(reporter.statistics.spooled == 0)
        let journal = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/spool/journal")) ?? []
        #expect(journal.isEmpty, "journal files left: \(journal)")
        try await store.close()
    }

    @Test func anIdleReporterWaitsForEventsInsteadOfTicking() async throws {
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        // Idle, it would look at the journal folder only every 30 s: whatever ends a pause sooner is an event.
        let reporter = Reporter(
            settings: Self.settings(folder), store: store, idleCheckInterval: .seconds(30),
            logger: APITestServer.logger)
        let running = Task { try await reporter.run() }
        reporter.submit(Self.views(20, prefix: "first"))
        #expect(try await Self.waitUntil { reporter.statistics.stored == 20 })
        // The journal file is sealed and removed a tick or two later; from then on the loop has nothing to do.
        let journalFolder = folder + "/spool/journal"
        #expect(
            try await Self.waitUntil {
                ((try? FileManager.default.contentsOfDirectory(atPath: journalFolder)) ?? []).isEmpty
            })
        try await Task.sleep(for: .milliseconds(200))
        let before = reporter.statistics.storeLoopWakeUps
        try await Task.sleep(for: .seconds(1))
        // Ticking every 5 ms, it would have woken about 200 times.
        #expect(reporter.statistics.storeLoopWakeUps - before <= 1)

        // An event ends the idle pause at once, and so does a stop.
        let submitted = ContinuousClock.now
        reporter.submit(Self.views(1, prefix: "second"))
        #expect(try await Self.waitUntil(10) { reporter.statistics.stored == 21 })
        #expect(ContinuousClock.now - submitted < .seconds(10))
        #expect(
            try await Self.waitUntil {
                ((try? FileManager.default.contentsOfDirectory(atPath: journalFolder)) ?? []).isEmpty
            })
        try await Task.sleep(for: .milliseconds(200))
        let stopped = ContinuousClock.now
        reporter.stop()
        try await running.value
        #expect(ContinuousClock.now - stopped < .seconds(10))
        #expect(try await Self.storedCount(store) == 21)
        try await store.close()
    }

    @Test func aBusyReporterWakesWhenABatchFallsDueNotOnATick() async throws {
        let (store, reporter, running) = try await Self.runningReporter(
            try Self.folder(), batchSize: 100_000, interval: .milliseconds(500))
        reporter.submit(Self.views(1, prefix: "warm"))
        #expect(try await Self.waitUntil { reporter.statistics.stored == 1 })
        // An event every 10 ms for 2 s (longer on a busy machine): the queue is never empty for long, and never
        // near `batch_size`.
        let before = reporter.statistics.storeLoopWakeUps
        let started = ContinuousClock.now
        for index in 0..<200 {
            reporter.submit(
                TrackEvent(
                    eventId: "busy-\(index)", name: TrackEvent.viewPageName,
                    timestamp: 1_780_000_000_000 + Int64(index), sourceId: "1", profileId: "p\(index % 10)",
                    sessionId: "s1", data: [:]))
            try await Task.sleep(for: .milliseconds(10))
        }
        let wakeUps = reporter.statistics.storeLoopWakeUps - before
        let seconds = Double((ContinuousClock.now - started).components.seconds) + 1
        // Batches and seals (every 500 ms) and looks for journals (every second) fall due up to 5 times a second;
        // a 5 ms tick would be 200 times.
        #expect(Double(wakeUps) <= 8 * seconds, "\(wakeUps) wake-ups in \(seconds - 1)+ s")
        #expect(reporter.statistics.stored > 1, "nothing written while events flowed")
        // The last events are written within the batch interval, without another event to wake the loop.
        #expect(try await Self.waitUntil(5) { reporter.statistics.stored == 201 })
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 201)
        try await store.close()
    }

    @Test func batchSizeEventsAreWrittenWithoutWaitingForTheInterval() async throws {
        let (store, reporter, running) = try await Self.runningReporter(
            try Self.folder(), batchSize: 100, interval: .seconds(60))
        // First one event, and the loop (no longer idle) pauses until the 60 s interval falls due.
        reporter.submit(Self.views(1, prefix: "first"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(reporter.statistics.stored == 0)
        // Then `batch_size` in all: the pause ends at once.
        let submitted = ContinuousClock.now
        reporter.submit(Self.views(99, prefix: "rest"))
        #expect(try await Self.waitUntil(10) { reporter.statistics.stored == 100 })
        #expect(ContinuousClock.now - submitted < .seconds(10))
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 100)
        try await store.close()
    }

    @Test func anAbandonedReporterLosesNothingTheNextOneReplays() async throws {
        // What SIGKILL leaves: the journal on disk, the queue gone. The reporter never ran, never drained.
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        do {
            let killed = Reporter(settings: Self.settings(folder), store: store, logger: APITestServer.logger)
            killed.submit(Self.views(300, prefix: "k"))
        }
        #expect(try await Self.storedCount(store) == 0)
        try await Self.expectANewReporterReplays(300, folder: folder, store: store)
        try await store.close()
    }

    @Test func concurrentSubmitsWriteWholeJournalLinesAndEachEventIsStoredOnce() async throws {
        // Threads write the journal outside the reporter's lock: every line must land whole, once.
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        let events = Self.views(4000, prefix: "c", profiles: 10)
        do {
            let killed = Reporter(settings: Self.settings(folder), store: store, logger: APITestServer.logger)
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for pair in stride(from: thread * 500, to: thread * 500 + 500, by: 2) {
                    killed.submit(Array(events[pair..<pair + 2]))
                }
            }
            #expect(killed.statistics.submitted == 4000)
        }
        let journal = folder + "/spool/journal"
        var lines = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: journal) {
            let text = try String(contentsOfFile: journal + "/" + name, encoding: .utf8)
            for line in text.split(separator: "\n") {
                lines += 1
                #expect(line.hasPrefix("{") && line.hasSuffix("}"), "a torn or mixed line: \(line.prefix(80))")
            }
        }
        #expect(lines == 4000)
        try await Self.expectANewReporterReplays(4000, folder: folder, store: store)
        try await store.close()
    }

    @Test func aFullQueueSpillsToTheJournalAndNothingIsLost() async throws {
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        let reporter = Reporter(
            settings: Self.settings(folder, queueLimit: 50), store: store, logger: APITestServer.logger)
        reporter.submit(Self.views(400, prefix: "full"))
        #expect(reporter.queued == 50)
        #expect(reporter.statistics.spooled == 350)
        let running = Task { try await reporter.run() }
        #expect(try await Self.waitUntil { try await Self.storedCount(store) == 400 })
        reporter.stop()
        try await running.value
        #expect(reporter.statistics.dropped == 0)
        try await store.close()
    }

    @Test func shutdownDrainsTheQueue() async throws {
        // A long interval and a big batch: nothing would be written before the stop.
        let (store, reporter, running) = try await Self.runningReporter(
            try Self.folder(), batchSize: 10_000, interval: .seconds(60))
        reporter.submit(Self.views(200, prefix: "drain"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await Self.storedCount(store) == 0)
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 200)
        try await store.close()
    }

    @Test func anUnreachableStoreSendsEventsToTheJournalAndTheyArriveWhenItIsBack() async throws {
        // A real PostgreSQL that is stopped, then started again on the same port.
        guard let server = try await RestartablePostgres.start() else { return }
        defer { server.remove() }
        let folder = try Self.folder()
        let store = try await server.openStore(timeout: 2)
        let reporter = Reporter(settings: Self.settings(folder), store: store, logger: APITestServer.logger)
        let running = Task { try await reporter.run() }
        reporter.submit(Self.views(100, prefix: "before"))
        #expect(try await Self.waitUntil { reporter.statistics.stored == 100 })
        try await server.stop()
        reporter.submit(Self.views(300, prefix: "during"))
        #expect(try await Self.waitUntil { reporter.statistics.spooled > 0 })
        try await server.startAgain()
        #expect(try await Self.waitUntil(60) { (try? await Self.storedCount(store)) == 400 })
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 400)
        try await store.close()
    }

    /// With no journal to fall back on (its folder cannot be made) and the store down, events stay queued in
    /// memory through failed writes, in order and once each, and reach the store when it is back.
    @Test func withoutAJournalEventsWaitInTheQueueWhileTheStoreIsDown() async throws {
        guard let server = try await RestartablePostgres.start() else { return }
        defer { server.remove() }
        let folder = try Self.folder()
        // A file where the journal's folder should be: every journal write fails.
        #expect(FileManager.default.createFile(atPath: folder + "/blocked", contents: Data("x".utf8)))
        var settings = Self.settings(folder)
        settings.spoolDirectory = folder + "/blocked/spool"
        let store = try await server.openStore(timeout: 2)
        let reporter = Reporter(settings: settings, store: store, logger: APITestServer.logger)
        let running = Task { try await reporter.run() }
        reporter.submit(Self.views(50, prefix: "before"))
        #expect(try await Self.waitUntil { reporter.statistics.stored == 50 })
        try await server.stop()
        for part in 0..<3 { reporter.submit(Self.views(100, prefix: "during-\(part)")) }
        #expect(try await Self.waitUntil { reporter.statistics.storeFailures > 0 })
        #expect(reporter.statistics.spooled == 0, "no journal took them")
        #expect(reporter.queued == 300, "all of them wait in memory")
        // Retries take the batch off the queue while they try: it still counts as waiting in memory.
        var leastQueued = Int.max
        let watchEnd = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < watchEnd {
            leastQueued = min(leastQueued, reporter.queued)
            try await Task.sleep(for: .microseconds(200))
        }
        #expect(leastQueued == 300, "through the retries")
        try await server.startAgain()
        #expect(try await Self.waitUntil(60) { reporter.queued == 0 })
        reporter.stop()
        try await running.value
        #expect(try await Self.storedCount(store) == 350)
        #expect(reporter.statistics.stored == 350)
        #expect(reporter.statistics.dropped == 0)
        try await store.close()
    }

    @Test func forwardingSurvivesAFlakyAndTemporarilyDownCollector() async throws {
        let folder = try Self.folder()
        let store = try await StoreFactory.open(url: "sqlite:\(folder)/v.sqlite", logger: APITestServer.logger)
        let port = try FlakyCollector.freePort()
        let url = "http://127.0.0.1:\(port)/v1/o/projects/p/sources/1/track"
        let reporter = Reporter(
            settings: Self.settings(folder, forward: url), store: store, logger: APITestServer.logger)
        let running = Task { try await reporter.run() }
        let events = Self.views(300, prefix: "fw")
        reporter.submit(events)
        // The collector is down for a while: the reporter retries with backoff.
        #expect(try await Self.waitUntil(30) { reporter.statistics.forwardRetries >= 1 })
        let collector = try await FlakyCollector.start(port: port)
        #expect(try await Self.waitUntil(60) { collector.eventIds.isSuperset(of: Set(events.map(\.eventId))) })
        reporter.stop()
        try await running.value
        #expect(collector.failed > 0)
        #expect(collector.authorization == "Basic " + Data("fwd:secret".utf8).base64EncodedString())
        #expect(collector.eventIds == Set(events.map(\.eventId)))
        #expect(reporter.statistics.forwarded == 300)
        #expect(try await Self.storedCount(store) == 300)
        try await collector.stop()
        try await store.close()
    }
}

/// A track endpoint on 127.0.0.1 that fails every other request with 503 and records what it accepted.
final class FlakyCollector: Sendable {
    private struct State {
        var requests = 0
        var failed = 0
        var eventIds = Set<String>()
        var authorization: String?
    }

    private let state = Mutex(State())
    private var task: Task<Void, any Error>? { taskBox.withLock { $0 } }
    private let taskBox = Mutex<Task<Void, any Error>?>(nil)

    var failed: Int { state.withLock { $0.failed } }
    var eventIds: Set<String> { state.withLock { $0.eventIds } }
    var authorization: String? { state.withLock { $0.authorization } }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func start(port: Int) async throws -> FlakyCollector {
        let collector = FlakyCollector()
        let router = Router()
        router.post("/v1/o/projects/p/sources/1/track") { request, context -> Response in
            let buffer = try await request.body.collect(upTo: 10 << 20)
            let fail = collector.state.withLock { state -> Bool in
                state.requests += 1
                state.authorization = request.headers[.authorization]
                if state.requests % 2 == 1 {
                    state.failed += 1
                    return true
                }
                return false
            }
            if fail { return Response(status: .serviceUnavailable) }
            let body = try JSONValue(jsonData: Data(buffer.readableBytesView))
            collector.state.withLock { state in
                for group in body["track"]?.arrayValue ?? [] {
                    for item in group["payload"]?.arrayValue ?? [] {
                        if let id = item["eventId"]?.stringValue { state.eventIds.insert(id) }
                    }
                }
            }
            return Response(status: .created)
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: APITestServer.logger)
        collector.taskBox.withLock { $0 = Task { try await app.run() } }
        return collector
    }

    func stop() async throws {
        task?.cancel()
        _ = try? await task?.value
    }
}

/// A PostgreSQL of its own (via scripts/postgres-test-server) that a test can stop and start again.
struct RestartablePostgres {
    let url: String
    let directory: String

    static func start() async throws -> RestartablePostgres? {
        let script = repositoryRoot + "/scripts/postgres-test-server"
        do {
            let url = try await runDetached("/bin/bash", [script, "start"])
            let directory = try await runDetached("/bin/bash", [script, "dir", url])
            return RestartablePostgres(url: url, directory: directory)
        } catch {
            print("Reporter outage test NOT RUN: scripts/postgres-test-server could not start PostgreSQL: \(error)")
            return nil
        }
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    private var pgctl: [String] {
        let binary = "/usr/lib/postgresql/15/bin/pg_ctl"
        return getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", binary] : [binary]
    }

    /// The store on this server, each operation limited to `timeout` seconds. The first connection is tried
    /// again for up to 30 s: once in CI, on a machine that the whole suite kept busy, the server just started
    /// did not give one within a 2 s limit.
    func openStore(timeout: Int) async throws -> any Store {
        let giveUp = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await StoreFactory.open(url: url + "?timeout=\(timeout)", logger: APITestServer.logger)
            } catch let error as StoreError where error.code == "connect" && ContinuousClock.now < giveUp {
                print("the test PostgreSQL gave no first connection within \(timeout) s; trying again: \(error)")
            }
        }
    }

    func stop() async throws {
        try await Self.runDetached(
            pgctl[0], Array(pgctl.dropFirst()) + ["-D", "\(directory)/data", "-m", "fast", "-w", "stop"])
    }

    func startAgain() async throws {
        let port = try String(contentsOfFile: "\(directory)/port", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try await Self.runDetached(
            pgctl[0],
            Array(pgctl.dropFirst()) + [
                "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-o",
                "-c listen_addresses=127.0.0.1 -p \(port) -k \(directory) -c fsync=off", "start",
            ])
    }

    func remove() {
        _ = try? Self.run("/bin/bash", [Self.repositoryRoot + "/scripts/postgres-test-server", "stop", directory])
    }

    /// Runs a command and returns its standard output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let (status, output) = try runReturningStatus(executable, arguments)
        guard status == 0 else {
            throw APIError(
                .internalServerError,
                "\(executable) \(arguments.joined(separator: " ")) exited with status \(status): \(output)")
        }
        return output
    }

    /// The exit status (0 on success) and standard output of a command.
    static func runReturningStatus(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let result = try ChildProcess.run(executable, arguments)
        return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func runDetachedReturningStatus(_ executable: String, _ arguments: [String]) async throws -> (Int32, String)
    {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try runReturningStatus(executable, arguments) }) }.start()
        }
    }

    @discardableResult
    static func runDetached(_ executable: String, _ arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try run(executable, arguments) }) }.start()
        }
    }
}
