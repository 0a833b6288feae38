extension DisplayFrequency {
    /// Whether one more exposure of `arm` is allowed, given the optimization's exposure history. Control
    /// exposures count too, so the control group is capped like the group it is compared with.
    ///
    /// The history is read newest first and only until the answer is known: a visit's exposures are at the end
    /// of a history in time order, so a visitor with a long history is not read whole on every page once the
    /// arm has been shown in this visit or has reached its cap. (The answers do not depend on the order.)
    func admits(arm: String, history: [ExposureRecord], sessionId: String, nowMilliseconds: Int64) -> Bool {
        switch self {
        case .always:
            return true
        case .once:
            return !history.contains { $0.arm == arm }
        case .oncePerVisit:
            return !history.reversed().contains {
                $0.arm == arm && ($0.sessionId ?? Engine.defaultSession) == sessionId
            }
        case .cap(let times, .visit):
            return Self.count(in: history, below: times) {
                $0.arm == arm && ($0.sessionId ?? Engine.defaultSession) == sessionId
            }
        case .cap(let times, .window(let seconds)):
            let since = nowMilliseconds - seconds * 1000
            return Self.count(in: history, below: times) { $0.arm == arm && $0.timestamp >= since }
        }
    }

    /// Whether fewer than `limit` records match, newest first, stopping at the `limit`-th.
    private static func count(
        in history: [ExposureRecord], below limit: Int, where matches: (ExposureRecord) -> Bool
    ) -> Bool {
        var count = 0
        for record in history.reversed() where matches(record) {
            count += 1
            if count >= limit { return false }
        }
        return count < limit
    }
}
