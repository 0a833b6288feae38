extension VeneerConfig {
    /// Every event summary any audience or segment reads: the store keeps these per person so that event
    /// conditions never scan a history.
    ///
    /// ```swift
    /// config.eventKeys.contains(EventKey(event: "Purchase"))
    /// ```
    public var eventKeys: Set<EventKey> {
        var keys: Set<EventKey> = []
        for segment in segments { segment.audience.collectEventKeys(into: &keys) }
        for optimization in optimizations {
            optimization.audience?.collectEventKeys(into: &keys)
            for arm in optimization.arms { arm.audience?.collectEventKeys(into: &keys) }
        }
        return keys
    }
}

extension Audience {
    /// The event summaries this audience reads directly (segments it names are collected from the segment).
    public var eventKeys: Set<EventKey> {
        var keys: Set<EventKey> = []
        collectEventKeys(into: &keys)
        return keys
    }

    func collectEventKeys(into keys: inout Set<EventKey>) {
        switch self {
        case .event(let condition): keys.insert(condition.key)
        case .all(let members), .any(let members): for member in members { member.collectEventKeys(into: &keys) }
        case .not(let inner): inner.collectEventKeys(into: &keys)
        case .everyone, .attribute, .request, .segment: break
        }
    }
}
