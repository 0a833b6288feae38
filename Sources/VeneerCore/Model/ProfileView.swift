/// What the engine knows of one person when it decides: attributes, per-event summaries and
/// exposure history. Built by the store (or from a JSON file by `veneer choose`); never I/O here.
///
/// ```swift
/// var view = ProfileView()
/// view.userAttributes["first_name"] = "Ada"
/// view.record(event: "View Page", data: [:], at: now, keys: config.eventKeys)
/// ```
public struct ProfileView: Sendable, Hashable {
    public var userAttributes: [String: JSONValue]
    public var accountAttributes: [String: JSONValue]
    /// One summary per (event, filter) that the configuration's audiences read.
    public var eventSummaries: [EventKey: EventSummary]
    /// Exposure history by optimization selector, in time order (records of one millisecond in the order they
    /// were recorded): `record(exposure:…)` and the stores keep it so, and lookups rely on it.
    public var exposures: [String: [ExposureRecord]]
    /// Sticky arms by optimization selector.
    public var assignments: [String: StickyAssignment]

    public init(
        userAttributes: [String: JSONValue] = [:], accountAttributes: [String: JSONValue] = [:],
        eventSummaries: [EventKey: EventSummary] = [:], exposures: [String: [ExposureRecord]] = [:],
        assignments: [String: StickyAssignment] = [:]
    ) {
        self.userAttributes = userAttributes
        self.accountAttributes = accountAttributes
        self.eventSummaries = eventSummaries
        self.exposures = exposures.mapValues(Self.inTimeOrder)
        self.assignments = assignments
    }

    /// `records` sorted by time, those of one millisecond kept in their order.
    private static func inTimeOrder(_ records: [ExposureRecord]) -> [ExposureRecord] {
        guard zip(records, records.dropFirst()).contains(where: { $0.timestamp > $1.timestamp }) else { return records }
        return records.enumerated()
            .sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }
            .map(\.element)
    }
}

/// The times (ms since 1970, ascending) at which a person performed one event that passed one filter.
/// Counting within a window is a binary search, so cost does not grow with the history.
public struct EventSummary: Sendable, Hashable {
    public private(set) var timestamps: [Int64]

    public init(timestamps: [Int64] = []) {
        self.timestamps = timestamps.sorted()
    }

    public mutating func add(_ timestamp: Int64) {
        if let last = timestamps.last, timestamp < last {
            timestamps.insert(timestamp, at: firstIndex(atOrAfter: timestamp))
        } else {
            timestamps.append(timestamp)
        }
    }

    public var total: Int { timestamps.count }

    /// Forgets the times at or after `since`.
    public mutating func removeAll(from since: Int64) {
        timestamps.removeSubrange(firstIndex(atOrAfter: since)...)
    }

    /// How many happened at or after `since` (ms).
    public func count(since: Int64) -> Int {
        timestamps.count - firstIndex(atOrAfter: since)
    }

    /// Whether one happened at exactly `timestamp` (ms): a binary search, as a cache asks this for each of its
    /// own recent events against a history that only grows.
    public func contains(_ timestamp: Int64) -> Bool {
        let index = firstIndex(atOrAfter: timestamp)
        return index < timestamps.count && timestamps[index] == timestamp
    }

    private func firstIndex(atOrAfter value: Int64) -> Int {
        timestamps.firstIndex(atOrAfter: value) { $0 }
    }
}

/// One past exposure, as display caps read it.
public struct ExposureRecord: Sendable, Hashable {
    /// The experience or variant name.
    public var arm: String
    /// Milliseconds since 1970.
    public var timestamp: Int64
    public var sessionId: String?
    public var control: Bool

    public init(arm: String, timestamp: Int64, sessionId: String?, control: Bool) {
        self.arm = arm
        self.timestamp = timestamp
        self.sessionId = sessionId
        self.control = control
    }
}

/// The arm a person was first exposed to, reused while the bucket version stays the same.
public struct StickyAssignment: Sendable, Hashable {
    public var arm: String
    public var control: Bool
    public var bucketVersion: Int

    public init(arm: String, control: Bool, bucketVersion: Int) {
        self.arm = arm
        self.control = control
        self.bucketVersion = bucketVersion
    }
}
