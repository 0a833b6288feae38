import Foundation

/// One open spool file. It is opened to append, so writes from several threads at once each land whole, and it
/// closes when the last holder lets go, so a seal never closes it under a write in flight.
///
/// ```swift
/// let file = try writer.currentFile()  // under the reporter's lock
/// try file.write(lines, durable: false)  // after it
/// ```
final class SpoolFile: Sendable {
    let path: String
    let descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// One write(2) from the lines' own bytes: no Data copy per page view.
    func write(_ lines: SpoolWriter.Lines, durable: Bool) throws {
        try lines.bytes.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
                }
                offset += written
            }
        }
        if durable, fsync(descriptor) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }
}
