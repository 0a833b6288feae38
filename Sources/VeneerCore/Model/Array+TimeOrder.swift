extension Array {
    /// The first position whose element's `time` (ms) is at or after `value`, in an array in time order: a binary
    /// search. Event summaries and exposure histories are both kept in time order and searched with it.
    ///
    /// ```swift
    /// let recent = timestamps[timestamps.firstIndex(atOrAfter: since) { $0 }...]
    /// ```
    func firstIndex(atOrAfter value: Int64, time: (Element) -> Int64) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if time(self[middle]) < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension [ExposureRecord] {
    /// The first position whose record is at or after `timestamp` (ms).
    func firstIndex(atOrAfter timestamp: Int64) -> Int {
        firstIndex(atOrAfter: timestamp) { $0.timestamp }
    }

    /// Inserts after every record at or before `record`'s time.
    mutating func insertInTimeOrder(_ record: ExposureRecord) {
        guard let last, record.timestamp < last.timestamp else {
            append(record)
            return
        }
        insert(record, at: firstIndex(atOrAfter: record.timestamp + 1))
    }
}
