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
    public mutating func replaceTail(from since: Int64, with tail: ProfileView) {
        userAttributes = tail.userAttributes
        accountAttributes = tail.accountAttributes
        assignments = tail.assignments
        for key in Set(eventSummaries.keys).union(tail.eventSummaries.keys) {
            var summary = eventSummaries[key] ?? EventSummary()
            summary.removeAll(from: since)
            for timestamp in tail.eventSummaries[key]?.timestamps ?? [] where timestamp >= since {
                summary.add(timestamp)
            }
            eventSummaries[key] = summary.total == 0 ? nil : summary
        }
        for selector in Set(exposures.keys).union(tail.exposures.keys) {
            var records = exposures[selector] ?? []
            records.removeSubrange(records.firstIndex(atOrAfter: since)...)
            let recent = tail.exposures[selector] ?? []
            records += recent[recent.firstIndex(atOrAfter: since)...]
            exposures[selector] = records.isEmpty ? nil : records
        }
    }
}
