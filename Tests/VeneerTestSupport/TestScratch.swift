public import Foundation

/// The temporary folders of this test process live under one root, removed when the process exits, so runs
/// leave nothing behind in /tmp however a test ends (a test that fails early skips its own cleanup).
public enum TestScratch {
    public static let root: URL = {
        let root = folder(for: getpid())
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestScratch.folder(for: getpid())) }
        return root
    }()

    public static func folder(for process: pid_t) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("veneer-tests-\(process)")
    }
}
