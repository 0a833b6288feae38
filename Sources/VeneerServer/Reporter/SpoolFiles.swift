import Foundation
import VeneerCore

/// Reading the spool's files back: which are ready to replay, and their events.
enum SpoolFiles {
    /// Files ready to replay, oldest first: every file but `excluding` whose writer is this process or dead.
    static func replayable(in directory: String, excluding current: String?) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let me = getpid()
        return names.filter { $0.hasSuffix(".jsonl") }.compactMap { name -> (String, Int64, Int)? in
            let parts = name.dropLast(6).split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[0]), let time = Int64(parts[1]), let sequence = Int(parts[2])
            else { return nil }
            let path = "\(directory)/\(name)"
            if path == current { return nil }
            if pid != me, kill(pid, 0) == 0 { return nil }  // a live writer's file
            return (path, time, sequence)
        }
        .sorted { ($0.1, $0.2) < ($1.1, $1.2) }
        .map(\.0)
    }

    static func read(_ path: String) -> (events: [TrackEvent], damaged: Int) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], 0) }
        var events: [TrackEvent] = []
        var damaged = 0
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
            if let event = TrackEvent(spoolLine: line) { events.append(event) } else { damaged += 1 }
        }
        return (events, damaged)
    }

    static func count(in directory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jsonl") }
            .count
    }
}
