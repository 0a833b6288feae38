import Foundation
import VeneerCore

/// Writes the reporter's local append-only files: one JSON event per line, named `<pid>-<ms>-<n>.jsonl`. A file
/// is replayable once its writer sealed it or died; a torn last line (killed mid-write) is skipped.
/// Not thread-safe: the reporter uses it under its own lock.
struct SpoolWriter {
    let directory: String
    private(set) var handle: FileHandle?
    private(set) var path: String?
    private(set) var sequence = 0
    private(set) var lines = 0

    init(directory: String) {
        self.directory = directory
    }

    /// The journal lines for these events, made before the lock that `append` runs under is taken.
    struct Lines: Sendable {
        var text = ""
        var count = 0

        init(_ events: some Sequence<TrackEvent>) {
            for event in events {
                text += event.spoolLine
                text += "\n"
                count += 1
            }
        }
    }

    /// Appends to the current file (opening one if needed). The kernel holds the bytes once this returns, so
    /// they survive the process being killed; `durable` also syncs them to disk.
    mutating func append(_ events: some Sequence<TrackEvent>, durable: Bool) throws {
        try append(Lines(events), durable: durable)
    }

    mutating func append(_ lines: Lines, durable: Bool) throws {
        guard lines.count > 0 else { return }
        if handle == nil {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            sequence += 1
            let path = "\(directory)/\(getpid())-\(Int64(Date().timeIntervalSince1970 * 1000))-\(sequence).jsonl"
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            self.path = path
            self.lines = 0
        }
        // The file is new and only this writer writes it: the position stays at its end between appends.
        // One write(2) from the string's own bytes: no Data copy per page view.
        var text = lines.text
        let descriptor = handle!.fileDescriptor
        try text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path ?? directory])
                }
                offset += written
            }
        }
        self.lines += lines.count
        if durable { try handle!.synchronize() }
    }

    /// Closes the current file and returns its path; the next append starts a new one.
    mutating func seal(sync: Bool = false) -> String? {
        guard let handle, let path else { return nil }
        if sync { try? handle.synchronize() }
        try? handle.close()
        self.handle = nil
        self.path = nil
        lines = 0
        return path
    }
}
