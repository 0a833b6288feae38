import VeneerCore

extension VeneerConfig {
    /// Every event summary that an audience of this configuration reads (segments included), which is what
    /// the profile view must carry for a decision.
    var proxyEventKeys: Set<EventKey> {
        var keys: Set<EventKey> = []
        func walk(_ audience: Audience) {
            switch audience {
            case .event(let condition): keys.insert(condition.key)
            case .all(let list), .any(let list): list.forEach(walk)
            case .not(let inner): walk(inner)
            case .everyone, .attribute, .request, .segment: break
            }
        }
        for segment in segments { walk(segment.audience) }
        for optimization in optimizations {
            if let audience = optimization.audience { walk(audience) }
            for arm in optimization.arms { if let audience = arm.audience { walk(audience) } }
        }
        return keys
    }
}
