extension ProfileView {
    /// Adds one event to every summary in `keys` that it belongs to: same name, and the key's filter (if
    /// any) admits the event's data. Stores call this as events arrive, so views never rescan history.
    public mutating func record(
        event name: String, data: [String: JSONValue], timestamp: Int64, keys: some Sequence<EventKey>
    ) {
        for key in keys where key.event == name {
            if let filter = key.filter, !filter.condition.evaluate(data[filter.property]) { continue }
            eventSummaries[key, default: EventSummary()].add(timestamp)
        }
    }

    /// Adds one exposure to the history, and makes its arm sticky unless an assignment of the same bucket
    /// version already exists (the first exposure's arm wins).
    public mutating func record(exposure: Exposure, timestamp: Int64, sessionId: String?) {
        exposures[exposure.selector, default: []].append(
            ExposureRecord(arm: exposure.arm, timestamp: timestamp, sessionId: sessionId, control: exposure.control))
        if let existing = assignments[exposure.selector], existing.bucketVersion == exposure.bucketVersion { return }
        assignments[exposure.selector] = StickyAssignment(
            arm: exposure.arm, control: exposure.control, bucketVersion: exposure.bucketVersion)
    }
}
