import Foundation
import Synchronization

/// Random numbers from the system, drawn 4 KiB at a time (16 system calls): a page records two or three events,
/// each with a random id, and a system call per id cost as much as the rest of making the id.
///
/// ```swift
/// let bits = RandomPool.next()
/// ```
enum RandomPool {
    private struct Pool {
        static let count = 512
        var numbers = [UInt64](repeating: 0, count: Pool.count)
        /// The first number not handed out yet; `count` when the pool must be drawn again.
        var next = Pool.count

        /// `getentropy` (glibc 2.25 and later, macOS) gives up to 256 bytes a call.
        mutating func refill() {
            let drawn = numbers.withUnsafeMutableBytes { buffer in
                stride(from: 0, to: buffer.count, by: 256).allSatisfy { offset in
                    getentropy(buffer.baseAddress! + offset, min(256, buffer.count - offset)) == 0
                }
            }
            if !drawn {
                var generator = SystemRandomNumberGenerator()
                for index in numbers.indices { numbers[index] = generator.next() }
            }
        }
    }

    private static let pool = Mutex(Pool())

    /// 64 random bits that no other caller gets.
    static func next() -> UInt64 {
        pool.withLock { pool in
            if pool.next == Pool.count {
                pool.refill()
                pool.next = 0
            }
            defer { pool.next += 1 }
            return pool.numbers[pool.next]
        }
    }
}
