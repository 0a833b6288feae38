import Foundation

/// Wall-clock time as the store records it: milliseconds since 1970.
enum EpochClock {
    static func milliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
