extension ProfileView {
    /// Replaces what this view holds from `since` (ms since 1970) on with `tail`, a view read with only the
    /// events and exposures at or after that time: theirs are `tail`'s, and so are the attributes and sticky
    /// arms, which a tail holds whole. What happened before `since` stays as it was, so a cache refreshes a
    /// long history by reading only its end.
    ///
    /// ```swift
    /// var view = cachedView
    /// view.replaceTail(from: since, with: try await store.profileRead(for: id, keys: keys, since: since).view)
    /// ```
    ///
    /// Summaries and histories are changed where the dictionaries store them: one read out and written back is
    /// copied whole by its first change, so a refresh would cost the visitor's whole history. On a view whose
    /// storage is not shared, a refresh costs what the tail holds.
    public mutating func replaceTail(from since: Int64, with tail: ProfileView) {
        userAttributes = tail.userAttributes
        accountAttributes = tail.accountAttributes
        assignments = tail.assignments
        for key in Set(eventSummaries.keys).union(tail.eventSummaries.keys) {
            let recent = tail.eventSummaries[key]?.timestamps ?? []
            let total = eventSummaries[key, default: EventSummary()].replaceTail(from: since, with: recent)
            if total == 0 { eventSummaries.removeValue(forKey: key) }
        }
        for selector in Set(exposures.keys).union(tail.exposures.keys) {
            let recent = tail.exposures[selector] ?? []
            let total = exposures[selector, default: []].replaceTail(
                from: since, with: recent[recent.firstIndex(atOrAfter: since)...])
            if total == 0 { exposures.removeValue(forKey: selector) }
        }
    }
}

extension EventSummary {
    /// Forgets the times at or after `since` and adds those of `recent` that are; returns how many it holds.
    fileprivate mutating func replaceTail(from since: Int64, with recent: [Int64]) -> Int {
        removeAll(from: since)
        for timestamp in recent where timestamp >= since { add(timestamp) }
        return total
    }
}

extension [ExposureRecord] {
    /// Forgets the records at or after `since` and appends `recent` (in time order, none before `since`); returns
    /// how many it holds.
    fileprivate mutating func replaceTail(from since: Int64, with recent: ArraySlice<ExposureRecord>) -> Int {
        removeSubrange(firstIndex(atOrAfter: since)...)
        append(contentsOf: recent)
        return count
    }
}
