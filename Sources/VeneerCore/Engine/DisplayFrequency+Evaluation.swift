extension DisplayFrequency {
    /// Whether one more exposure of `arm` is allowed, given the optimization's exposure history. Control
    /// exposures count too, so the control group is capped like the group it is compared with.
    func admits(arm: String, history: [ExposureRecord], sessionId: String, nowMilliseconds: Int64) -> Bool {
        switch self {
        case .always:
            return true
        case .once:
            return !history.contains { $0.arm == arm }
        case .oncePerVisit:
            return !history.contains { $0.arm == arm && ($0.sessionId ?? Engine.defaultSession) == sessionId }
        case .cap(let times, .visit):
            let count = history.lazy.filter { $0.arm == arm && ($0.sessionId ?? Engine.defaultSession) == sessionId }
                .count
            return count < times
        case .cap(let times, .window(let seconds)):
            let since = nowMilliseconds - seconds * 1000
            let count = history.lazy.filter { $0.arm == arm && $0.timestamp >= since }.count
            return count < times
        }
    }
}
