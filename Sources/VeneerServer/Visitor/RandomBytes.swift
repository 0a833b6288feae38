import Foundation
import Synchronization

/// Random numbers from the system, drawn 4 KiB at a time: a page records two or three events, each with a random
/// id, and a system call per id cost more than the rest of making it.
///
/// ```swift
/// let bits = RandomBytes.next()
/// ```
enum RandomBytes {
    private struct Pool {
        static let words = 512
        var words = [UInt64](repeating: 0, count: Pool.words)
        /// The first word not handed out yet; `words.count` when the pool must be drawn again.
        var next = Pool.words
    }

    private static let pool = Mutex(Pool())

    /// 64 random bits that no other caller gets.
    static func next() -> UInt64 {
        pool.withLock { pool in
            if pool.next == pool.words.count {
                pool.words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                pool.next = 0
            }
            defer { pool.next += 1 }
            return pool.words[pool.next]
        }
    }
}
