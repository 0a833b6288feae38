public import Foundation

/// Runs a command to completion for a test: posix_spawn and waitpid, not Foundation's `Process` (on Linux it
/// learns of the exit through a descriptor the child inherits, and a daemon the child starts, like postgres,
/// keeps that open for ever). Output goes through files, so nothing the command leaves behind can hold a pipe.
///
/// ```swift
/// let result = try await ChildProcess.runDetached("/usr/bin/psql", [url, "-Atc", "SELECT 1"])
/// #expect(result.status == 0)
/// ```
public enum ChildProcess {
    public struct Result: Sendable {
        /// The exit status, or 128 + the signal that ended the command.
        public var status: Int32
        public var output: String
        public var errors: String
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Blocks the calling thread until the command ends.
    public static func run(_ executable: String, _ arguments: [String]) throws -> Result {
        let folder = TestScratch.root.appendingPathComponent("veneer-run-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, folder + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, folder + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        closeInheritedDescriptors(&actions)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw SpawnError(description: "cannot start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        return Result(
            status: status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f),
            output: (try? String(contentsOfFile: folder + "/out", encoding: .utf8)) ?? "",
            errors: (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? "")
    }

    /// Has the child close every descriptor above standard error. NIO opens its sockets without close-on-exec: a
    /// child (a PostgreSQL server that outlives the command that started it) would hold every test's open
    /// connections, and a test that closes one would wait in vain for the other end to see it close. glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34) is not in Swift's Glibc module, so it is looked up.
    public static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            print("ChildProcess: this libc has no posix_spawn_file_actions_addclosefrom_np; children inherit sockets")
            return
        }
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, 3)
    }

    /// `run` on a thread of its own, so the test's cooperative threads never block on the command.
    public static func runDetached(_ executable: String, _ arguments: [String]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Swift.Result { try run(executable, arguments) }) }.start()
        }
    }
}
