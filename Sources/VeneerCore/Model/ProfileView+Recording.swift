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
        let record = ExposureRecord(
            arm: exposure.arm, timestamp: timestamp, sessionId: sessionId, control: exposure.control)
        // In time order: nearly always at the end; an exposure older than the last (another event loop's clock
        // a millisecond behind) goes after those of its own millisecond.
        exposures[exposure.selector, default: []].insertInTimeOrder(record)
        if let existing = assignments[exposure.selector], existing.bucketVersion == exposure.bucketVersion { return }
        assignments[exposure.selector] = StickyAssignment(
            arm: exposure.arm, control: exposure.control, bucketVersion: exposure.bucketVersion)
    }
}

extension ProfileView {
    /// Whether the exposure history of `selector` holds `record` exactly. Only the records of its millisecond are
    /// compared (the history is in time order), so a cache that checks each of its recent exposures against a
    /// long history does not pay for the whole history each time.
    public func holds(_ record: ExposureRecord, selector: String) -> Bool {
        guard let records = exposures[selector] else { return false }
        var index = records.firstIndex(atOrAfter: record.timestamp)
        while index < records.endIndex, records[index].timestamp == record.timestamp {
            if records[index] == record { return true }
            index += 1
        }
        return false
    }
}
