import Foundation
import VeneerCore

/// Writes the reporter's local append-only files: one JSON event per line, named `<pid>-<ms>-<n>.jsonl`. A file
/// is replayable once its writer sealed it or died; a torn last line (killed mid-write) is skipped.
/// Not thread-safe: the reporter uses it under its own lock. Appends to an open file (`SpoolFile.write`) may run
/// outside that lock, from several threads at once.
///
/// ```swift
/// var writer = SpoolWriter(directory: spool + "/journal")
/// try writer.append(SpoolWriter.Lines(events), durable: false)
/// let sealed = writer.seal()  // the next append starts a new file
/// ```
struct SpoolWriter {
    let directory: String
    private(set) var file: SpoolFile?
    private(set) var sequence = 0

    init(directory: String) {
        self.directory = directory
    }

    var path: String? { file?.path }

    /// The journal lines for these events, made before the lock that `append` runs under is taken.
    struct Lines: Sendable {
        var bytes: [UInt8] = []
        var count = 0

        init(_ events: some Sequence<TrackEvent>) {
            bytes.reserveCapacity(512 * events.underestimatedCount)
            for event in events {
                event.writeSpoolLine(into: &bytes)
                bytes.append(UInt8(ascii: "\n"))
                count += 1
            }
        }
    }

    /// The file appends go to now, opened if there is none.
    mutating func currentFile() throws -> SpoolFile {
        if let file { return file }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        sequence += 1
        let path = "\(directory)/\(getpid())-\(Int64(Date().timeIntervalSince1970 * 1000))-\(sequence).jsonl"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        let opened = SpoolFile(path: path, descriptor: descriptor)
        file = opened
        return opened
    }

    /// Appends to the current file (opening one if needed). The kernel holds the bytes once this returns, so
    /// they survive the process being killed; `durable` also syncs them to disk.
    mutating func append(_ events: some Sequence<TrackEvent>, durable: Bool) throws {
        try append(Lines(events), durable: durable)
    }

    mutating func append(_ lines: Lines, durable: Bool) throws {
        guard lines.count > 0 else { return }
        try currentFile().write(lines, durable: durable)
    }

    /// Ends the current file and returns its path; the next append starts a new one. The file closes once no
    /// write holds it any more.
    mutating func seal(sync: Bool = false) -> String? {
        guard let file else { return nil }
        if sync { fsync(file.descriptor) }
        self.file = nil
        return file.path
    }
}
