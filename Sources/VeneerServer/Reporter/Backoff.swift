/// Exponential backoff with jitter: attempt n waits a random time between half and all of min(cap, base·2ⁿ), at least
/// `floor`. Jitter keeps many proxies that failed together from retrying together.
///
/// ```swift
/// var backoff = Backoff(base: .milliseconds(100), cap: .seconds(30))
/// try await Task.sleep(for: backoff.next())
/// ```
struct Backoff: Sendable {
    var base: Duration
    var cap: Duration
    var floor: Duration = .milliseconds(10)
    private(set) var attempts = 0

    init(base: Duration, cap: Duration) {
        self.base = base
        self.cap = cap
    }

    mutating func next() -> Duration {
        let exponent = min(attempts, 30)
        attempts += 1
        let ceiling = min(cap, base * Double(1 << exponent))
        let jittered = ceiling * Double.random(in: 0.5...1.0)
        return max(floor, jittered)
    }

    mutating func reset() {
        attempts = 0
    }
}
