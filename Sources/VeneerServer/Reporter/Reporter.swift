public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import Synchronization
public import VeneerCore
public import VeneerStore

/// Takes exposures and the proxy's page views off the request path and delivers them: first to a local
/// journal (one `write`, so a killed process loses nothing it accepted), then in batches to the store,
/// and optionally on to a remote Intempt-compatible track URL with retries, backoff and jitter. While the
/// store is unreachable or the queue is full, events wait in the journal and are replayed later; on start,
/// journals of earlier runs are replayed; on shutdown the queue drains within a deadline. Delivery is at
/// least once; the store's eventId dedup makes it exactly once in the data.
///
/// ```swift
/// let reporter = Reporter(settings: config.events, store: store, cache: cache, logger: logger)
/// reporter.submit(exposureEvent)           // from any thread, never blocks on I/O beyond one write
/// try await ServiceGroup(services: [reporter], logger: logger).run()
/// ```
public final class Reporter: Service, Sendable {
    /// Counts since start, for metrics and tests.
    public struct Statistics: Sendable, Hashable {
        public var submitted = 0
        /// Events written to the store from the queue.
        public var stored = 0
        /// Events that went to the journal only (store down, queue full), to be replayed.
        public var spooled = 0
        /// Events written to the store from journal files.
        public var replayed = 0
        /// Events lost because neither the queue nor the journal could take them.
        public var dropped = 0
        public var forwarded = 0
        public var forwardRetries = 0
        /// Events the forward target refused for good (a 4xx other than 408/413/429).
        public var forwardRefused = 0
        public var storeFailures = 0
        /// Times the store loop woke: when a batch, the journal's seal or a look for journals to replay fell due,
        /// when `batch_size` events were queued, and (idle) when an event arrived.
        public var storeLoopWakeUps = 0
    }

    private struct JournalFile {
        var path: String
        var total = 0
        var stored = 0
        var sealed = false
        /// Some of its events are not in the queue: only a replay of the file delivers them.
        var needsReplay = false
        /// Appends under way outside the lock: until they are done and their events queued, the file is neither
        /// replayed nor removed.
        var writing = 0
    }

    private struct State {
        var journal: SpoolWriter
        var forwardSpool: SpoolWriter
        var currentFile = 0
        var nextFile = 1
        var files: [Int: JournalFile] = [:]
        /// Events waiting for the store, oldest first, from `queueHead` on.
        var queue: [TrackEvent] = []
        /// Beside each queued event, the journal file that holds it; 0 when the journal could not be written.
        /// Two arrays rather than one of pairs: a batch then leaves with its events as they are, where pairs
        /// would be copied into an array of events (a copy retains every string and dictionary an event holds).
        var queueFiles: [Int] = []
        var queueHead = 0
        var forwardQueue: [TrackEvent] = []
        var stopping = false
        /// The store loop while it pauses, with the pause's number, whether any event ends it, and how many queued
        /// events end it.
        var pause:
            (number: UInt64, continuation: CheckedContinuation<Void, Never>, endsOnEvent: Bool, endsAtQueued: Int)?
        var pauseCount: UInt64 = 0
        var statistics = Statistics()
        var journalFailureLogged = false

        /// Events the store loop has taken off the queue for a write that has not ended yet.
        var writingToStore = 0

        var queueCount: Int { queue.count - queueHead }

        /// The number of the journal file appends go to, counted in `files` from its first append.
        mutating func currentFileNumber(path: String) -> Int {
            if currentFile == 0 {
                currentFile = nextFile
                nextFile += 1
                files[currentFile] = JournalFile(path: path)
            }
            return currentFile
        }

        /// Takes the store loop's pause if this ends it: any pause, or with `eventArrived` only one that waits
        /// for events. The caller resumes it after the lock.
        mutating func endPause(eventArrived: Bool) -> CheckedContinuation<Void, Never>? {
            guard let pause, !eventArrived || pause.endsOnEvent || queueCount >= pause.endsAtQueued else { return nil }
            self.pause = nil
            return pause.continuation
        }
    }

    private let settings: EventSettings
    private let store: any Store
    private let cache: ProfileCache?
    private let eventKeys: @Sendable () -> Set<EventKey>
    private let httpClient: HTTPClient
    private let logger: Logger
    private let drainDeadline: Duration
    private let idleCheckInterval: Duration
    private let state: Mutex<State>
    private let journalDirectory: String
    private let forwardDirectory: String

    /// - Parameters:
    ///   - eventKeys: the summaries the configuration's audiences read (config reload may change them), used to
    ///     update cached views with the proxy's own events.
    ///   - drainDeadline: how long shutdown may spend writing the queue to the store before leaving the rest in
    ///     the journal.
    ///   - idleCheckInterval: how often an idle reporter looks for journals left by other processes; an event
    ///     wakes it at once.
    public init(
        settings: EventSettings, store: any Store, cache: ProfileCache? = nil,
        eventKeys: @escaping @Sendable () -> Set<EventKey> = { [] }, httpClient: HTTPClient = .shared,
        drainDeadline: Duration = .seconds(5), idleCheckInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.settings = settings
        self.store = store
        self.cache = cache
        self.eventKeys = eventKeys
        self.httpClient = httpClient
        self.drainDeadline = drainDeadline
        self.idleCheckInterval = idleCheckInterval
        self.logger = logger
        self.journalDirectory = settings.spoolDirectory + "/journal"
        self.forwardDirectory = settings.spoolDirectory + "/forward"
        self.state = Mutex(
            State(
                journal: SpoolWriter(directory: settings.spoolDirectory + "/journal"),
                forwardSpool: SpoolWriter(directory: settings.spoolDirectory + "/forward")))
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Events in memory that the store does not hold yet: those queued and those in a write under way.
    public var queued: Int { state.withLock { $0.queueCount + $0.writingToStore } }

    public func submit(_ event: TrackEvent) {
        submit([event])
    }

    /// Synchronous and non-blocking apart from one buffered `write(2)`; never throws. Callable from a NIO
    /// event loop.
    public func submit(_ events: [TrackEvent]) {
        guard !events.isEmpty else { return }
        cache?.record(events, keys: eventKeys())
        let limit = max(1, settings.queueLimit)
        // Encoded before the lock: every event loop submits under it.
        let lines = SpoolWriter.Lines(events)
        // The journal's file is taken under the lock and counts these events before they are written, so that a
        // seal meanwhile cannot find it fully stored and delete it. The write runs outside the lock: every event
        // loop takes it for every page, and a system call held inside it made them wait on each other.
        let journal: Result<(id: Int, file: SpoolFile), any Error> = state.withLock { state in
            Result {
                let file = try state.journal.currentFile()
                let number = state.currentFileNumber(path: file.path)
                state.files[number]?.total += events.count
                state.files[number]?.writing += 1
                return (number, file)
            }
        }
        let written = journal.flatMap { journal in
            Result { try journal.file.write(lines, durable: false) }.map { journal.id }
        }
        let idleLoop = state.withLock { state in
            state.statistics.submitted += events.count
            if case .success(let journal) = journal { state.files[journal.id]?.writing -= 1 }
            var file = 0
            switch written {
            case .success(let id):
                file = id
            case .failure(let error):
                if case .success(let journal) = journal { state.files[journal.id]?.total -= events.count }
                if !state.journalFailureLogged {
                    state.journalFailureLogged = true
                    logger.error("reporter: cannot write the journal in \(journalDirectory): \(error)")
                }
            }
            // What fits goes to the queue; the rest waits in the journal for a replay.
            let room = max(0, min(events.count, limit - state.queueCount))
            state.queue.append(contentsOf: events.prefix(room))
            state.queueFiles.append(contentsOf: repeatElement(file, count: room))
            let overflow = events.count - room
            if overflow > 0 {
                if file != 0 {
                    state.files[file]?.needsReplay = true
                    state.statistics.spooled += overflow
                } else {
                    state.statistics.dropped += overflow
                }
            }
            return state.endPause(eventArrived: true)
        }
        idleLoop?.resume()
    }

    /// Writes events to the journal and syncs it to disk, for the API to answer 201 while the store is down.
    /// They reach the store by replay.
    public func spoolDurably(_ events: [TrackEvent]) throws {
        guard !events.isEmpty else { return }
        try state.withLock { state -> CheckedContinuation<Void, Never>? in
            try state.journal.append(events, durable: true)
            let number = state.currentFileNumber(path: state.journal.path ?? "")
            state.files[number]?.total += events.count
            state.files[number]?.needsReplay = true
            state.statistics.spooled += events.count
            return state.endPause(eventArrived: true)
        }?.resume()
    }

    /// Queues already-stored events (the API's) for the forward target only.
    public func forward(_ events: [TrackEvent]) {
        guard !settings.forwardURL.isEmpty, !events.isEmpty else { return }
        enqueueForward(events)
    }

    /// Asks `run()` to drain and return (what a graceful shutdown does).
    public func stop() {
        state.withLock { state in
            state.stopping = true
            return state.endPause(eventArrived: false)
        }?.resume()
    }

    public func run() async throws {
        // Store writes come in bursts (a commit per batch): on a thread of their own at a lower priority they
        // take what the event loops leave instead of delaying pages.
        let background = BackgroundExecutor(niceness: ThreadPriority.background)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask(executorPreference: background) { await self.storeLoop(background) }
                if !self.settings.forwardURL.isEmpty {
                    group.addTask { await self.forwardLoop() }
                }
            }
        } onGracefulShutdown: {
            self.stop()
        }
        try await background.shutdown()
    }

    // MARK: store side

    private var isStopping: Bool { state.withLock { $0.stopping } || Task.isCancelled }

    private func storeLoop(_ executor: BackgroundExecutor) async {
        let interval = max(settings.batchInterval, .milliseconds(1))
        var backoff = Backoff(base: max(interval, .milliseconds(50)), cap: .seconds(30))
        var retryAt: ContinuousClock.Instant?
        var lastFlush = ContinuousClock.now
        var lastSeal = ContinuousClock.now
        var lastReplay = ContinuousClock.now - .seconds(60)

        let replayInterval = min(idleCheckInterval, .seconds(1))
        let batchSize = max(1, settings.batchSize)
        var idle = false
        while !isStopping {
            // With nothing queued and no journal file left to seal, remove or replay, the loop waits for an event
            // (and looks at the journal folder once a second): an idle proxy wakes no thread. Otherwise it sleeps
            // until the next batch, seal or look falls due, or until `batch_size` events are queued: a loop that
            // ticked every 5 ms to look at the queue woke a thread 200 times a second beside the event loops.
            if idle {
                await pause(for: idleCheckInterval, endsOnEvent: true, endsAtQueued: 1, on: executor)
            } else {
                let now = ContinuousClock.now
                var due = min(lastSeal + interval, lastReplay + replayInterval)
                if state.withLock({ $0.queueCount }) > 0 { due = min(due, lastFlush + interval) }
                // A retry time already past is not a reason to wake: the next due write or replay tries the store.
                if let retryAt, retryAt > now { due = min(due, retryAt) }
                await pause(
                    for: max(due - now, .milliseconds(1)), endsOnEvent: false, endsAtQueued: batchSize, on: executor)
            }
            let now = ContinuousClock.now
            let storeReady = retryAt.map { now >= $0 } ?? true
            let count = state.withLock { state in
                state.statistics.storeLoopWakeUps += 1
                return state.queueCount
            }
            if count > 0, count >= batchSize || now - lastFlush >= interval {
                lastFlush = now
                // Write what is queued now, a batch at a time, without waiting for the next tick.
                var remaining = count
                while remaining > 0, !isStopping {
                    let written = await flushOne(
                        storeReady: retryAt.map { ContinuousClock.now >= $0 } ?? true,
                        retryAt: &retryAt, backoff: &backoff)
                    if written == 0 { break }
                    remaining -= written
                }
            }
            if now - lastSeal >= interval {
                lastSeal = now
                sealJournal(sync: false)
                removeDeliveredFiles()
            }
            if storeReady, now - lastReplay >= replayInterval {
                lastReplay = now
                await replayJournals(retryAt: &retryAt, backoff: &backoff)
            }
            idle = retryAt == nil && state.withLock { $0.queueCount == 0 && $0.files.isEmpty }
        }

        // Drain: write what is queued while the deadline allows; the journal keeps the rest for the next start.
        let deadline = ContinuousClock.now + drainDeadline
        while state.withLock({ $0.queueCount }) > 0, ContinuousClock.now < deadline {
            // A store that just failed is not waited for: the journal already holds these events.
            let storeReady = retryAt.map { ContinuousClock.now >= $0 } ?? true
            let written = await flushOne(storeReady: storeReady, retryAt: &retryAt, backoff: &backoff)
            if written == 0 { break }
        }
        state.withLock { state in
            for file in state.queueFiles[state.queueHead...] where file != 0 {
                state.files[file]?.needsReplay = true
            }
            let left = state.queueCount
            if left > 0 {
                state.statistics.spooled += left
                logger.warning(
                    "reporter: \(left) events left in the journal at shutdown; they are replayed at the next start")
            }
        }
        sealJournal(sync: true)
        removeDeliveredFiles()
    }

    /// Suspends the store loop for `duration`, or until an event arrives when `endsOnEvent`, or until
    /// `endsAtQueued` events are queued, or until `stop()`.
    private func pause(
        for duration: Duration, endsOnEvent: Bool, endsAtQueued: Int, on executor: BackgroundExecutor
    ) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let number: UInt64? = state.withLock { state in
                    // Events that came after the loop decided to pause end the pause before it begins.
                    if state.stopping || (endsOnEvent && state.queueCount > 0) || state.queueCount >= endsAtQueued {
                        return nil
                    }
                    state.pauseCount &+= 1
                    state.pause = (state.pauseCount, continuation, endsOnEvent, endsAtQueued)
                    return state.pauseCount
                }
                guard let number else {
                    continuation.resume()
                    return
                }
                executor.schedule(in: duration) {
                    self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard let pause = state.pause, pause.number == number else { return nil }
                        state.pause = nil
                        return pause.continuation
                    }?.resume()
                }
            }
        } onCancel: {
            state.withLock { $0.endPause(eventArrived: false) }?.resume()
        }
    }

    /// The most events one store transaction takes.
    static let largestWrite = 500

    /// Writes one batch; returns how many events it took off the queue.
    private func flushOne(
        storeReady: Bool, retryAt: inout ContinuousClock.Instant?, backoff: inout Backoff
    ) async -> Int {
        // `batch_size` events start a write; one write takes what has queued up since, to a bound (at least 500
        // events), so that a small `batch_size` under load does not commit (and sync) once per `batch_size`.
        let batchSize = max(1, settings.batchSize, Self.largestWrite)
        let (events, files): ([TrackEvent], [Int]) = state.withLock { state in
            if state.queueHead == 0, state.queue.count <= batchSize {
                // All of it: the arrays change hands instead of being copied while the event loops wait, and the
                // queue starts again at the size it reached, so that appends do not grow (and copy) it under the lock.
                var events: [TrackEvent] = []
                var files: [Int] = []
                events.reserveCapacity(state.queue.count)
                files.reserveCapacity(state.queue.count)
                swap(&events, &state.queue)
                swap(&files, &state.queueFiles)
                state.writingToStore = events.count
                return (events, files)
            }
            let end = min(state.queue.count, state.queueHead + batchSize)
            let taken = (Array(state.queue[state.queueHead..<end]), Array(state.queueFiles[state.queueHead..<end]))
            state.queueHead = end
            if state.queueHead > 4096, state.queueHead * 2 > state.queue.count {
                state.queue.removeFirst(state.queueHead)
                state.queueFiles.removeFirst(state.queueHead)
                state.queueHead = 0
            }
            state.writingToStore = taken.0.count
            return taken
        }
        guard !events.isEmpty else { return 0 }
        var failed = false
        if storeReady {
            do {
                _ = try await store.append(events)
                backoff.reset()
                retryAt = nil
                cache?.confirmStored(events)
                var storedPerFile: [Int: Int] = [:]
                for file in files where file != 0 { storedPerFile[file, default: 0] += 1 }
                state.withLock { state in
                    state.writingToStore = 0
                    state.statistics.stored += events.count
                    for (file, count) in storedPerFile { state.files[file]?.stored += count }
                }
                if !settings.forwardURL.isEmpty { enqueueForward(events) }
                return events.count
            } catch {
                let delay = backoff.next()
                retryAt = ContinuousClock.now + delay
                logger.warning("reporter: store write failed, events go to the journal; next try in \(delay): \(error)")
                failed = true
            }
        }
        // The failure is counted in the same lock that puts the events back, so that no reader sees the one
        // without the other.
        state.withLock { state in
            state.writingToStore = 0
            if failed { state.statistics.storeFailures += 1 }
            var unjournaled: [TrackEvent] = []
            for (event, file) in zip(events, files) {
                if file != 0 { state.files[file]?.needsReplay = true } else { unjournaled.append(event) }
            }
            state.statistics.spooled += events.count - unjournaled.count
            // Events the journal never took stay in memory: they have no other copy.
            if !unjournaled.isEmpty {
                state.queue.insert(contentsOf: unjournaled, at: state.queueHead)
                state.queueFiles.insert(contentsOf: repeatElement(0, count: unjournaled.count), at: state.queueHead)
            }
        }
        return events.count
    }

    private func sealJournal(sync: Bool) {
        state.withLock { state in
            guard state.currentFile != 0 else { return }
            _ = state.journal.seal(sync: sync)
            state.files[state.currentFile]?.sealed = true
            state.currentFile = 0
        }
    }

    private func removeDeliveredFiles() {
        let done: [String] = state.withLock { state in
            var done: [String] = []
            for (id, file) in state.files
            where file.sealed && !file.needsReplay && file.writing == 0
                && file.stored >= file.total
            {
                done.append(file.path)
                state.files[id] = nil
            }
            return done
        }
        for path in done { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Replays journal files: this process's that hold undelivered events, and every file of earlier or
    /// dead processes.
    private func replayJournals(retryAt: inout ContinuousClock.Instant?, backoff: inout Backoff) async {
        let (current, ownPending, ownOther) = state.withLock { state -> (String?, Set<String>, Set<String>) in
            var pending = Set<String>()
            var other = Set<String>()
            for file in state.files.values {
                if file.sealed && file.needsReplay && file.writing == 0 {
                    pending.insert(file.path)
                } else {
                    other.insert(file.path)
                }
            }
            return (state.journal.path, pending, other)
        }
        for path in SpoolFiles.replayable(in: journalDirectory, excluding: current) where !ownOther.contains(path) {
            let (events, damaged) = SpoolFiles.read(path)
            if damaged > 0 { logger.notice("reporter: skipped \(damaged) torn lines in \(path)") }
            do {
                for start in stride(from: 0, to: events.count, by: 500) {
                    _ = try await store.append(Array(events[start..<min(start + 500, events.count)]))
                }
                cache?.confirmStored(events)
                try? FileManager.default.removeItem(atPath: path)
                state.withLock { state in
                    state.statistics.replayed += events.count
                    if ownPending.contains(path), let id = state.files.first(where: { $0.value.path == path })?.key {
                        state.files[id] = nil
                    }
                }
                if !settings.forwardURL.isEmpty { enqueueForward(events) }
            } catch {
                let delay = backoff.next()
                retryAt = ContinuousClock.now + delay
                logger.warning("reporter: replay of \(path) failed; next try in \(delay): \(error)")
                return
            }
        }
    }

    // MARK: forward side

    private func enqueueForward(_ events: [TrackEvent]) {
        let limit = max(1, settings.queueLimit)
        state.withLock { state in
            if state.forwardQueue.count + events.count <= limit {
                state.forwardQueue.append(contentsOf: events)
            } else {
                do {
                    try state.forwardSpool.append(events, durable: false)
                } catch {
                    state.statistics.dropped += events.count
                    logger.error("reporter: forward queue full and its spool failed: \(error)")
                }
            }
        }
    }

    private func forwardLoop() async {
        var backoff = Backoff(base: max(settings.batchInterval, .milliseconds(100)), cap: .seconds(30))
        let batchSize = max(settings.batchSize, 50)
        // What earlier runs could not forward.
        for path in SpoolFiles.replayable(in: forwardDirectory, excluding: nil) {
            let (events, _) = SpoolFiles.read(path)
            state.withLock { $0.forwardQueue.append(contentsOf: events) }
            try? FileManager.default.removeItem(atPath: path)
        }
        var deadline: ContinuousClock.Instant?
        while true {
            if deadline == nil, isStopping { deadline = ContinuousClock.now + drainDeadline }
            if let deadline, ContinuousClock.now >= deadline { break }
            let batch: [TrackEvent] = state.withLock { state in
                let batch = Array(state.forwardQueue.prefix(batchSize))
                state.forwardQueue.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty {
                if deadline != nil { break }
                let current = state.withLock { $0.forwardSpool.path }
                if let path = SpoolFiles.replayable(in: forwardDirectory, excluding: current).first {
                    let (events, _) = SpoolFiles.read(path)
                    state.withLock { $0.forwardQueue.append(contentsOf: events) }
                    try? FileManager.default.removeItem(atPath: path)
                } else {
                    state.withLock { _ = $0.forwardSpool.seal() }
                    try? await Task.sleep(for: .milliseconds(20))
                }
                continue
            }
            switch await send(batch) {
            case .delivered:
                backoff.reset()
                state.withLock { $0.statistics.forwarded += batch.count }
            case .refused(let status):
                logger.warning("reporter: forward target refused \(batch.count) events with \(status); dropped")
                state.withLock { $0.statistics.forwardRefused += batch.count }
            case .retry(let reason):
                state.withLock { state in
                    state.forwardQueue.insert(contentsOf: batch, at: 0)
                    state.statistics.forwardRetries += 1
                }
                let delay = backoff.next()
                logger.debug("reporter: forward failed (\(reason)); retry in \(delay)")
                if deadline == nil { try? await Task.sleep(for: delay) } else { break }
            }
        }
        // Whatever is left waits in the forward spool for the next start.
        state.withLock { state in
            let left = state.forwardQueue
            state.forwardQueue = []
            try? state.forwardSpool.append(left, durable: true)
            _ = state.forwardSpool.seal(sync: true)
        }
    }

    private enum SendResult {
        case delivered
        case refused(UInt)
        case retry(String)
    }

    private func send(_ events: [TrackEvent]) async -> SendResult {
        var request = HTTPClientRequest(url: settings.forwardURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Intempt-Lib", value: "veneer")
        if let dot = settings.forwardKey.firstIndex(of: ".") {
            let credentials =
                "\(settings.forwardKey[..<dot]):\(settings.forwardKey[settings.forwardKey.index(after: dot)...])"
            request.headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        }
        request.body = .bytes(ByteBuffer(string: TrackEvent.wireBody(events).jsonText()))
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let status = response.status.code
            if (200..<300).contains(status) { return .delivered }
            if status == 408 || status == 413 || status == 429 || status >= 500 { return .retry("status \(status)") }
            return .refused(status)
        } catch {
            return .retry("\(error)")
        }
    }
}
