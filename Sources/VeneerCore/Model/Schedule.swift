public import Foundation

/// When an experience may show: an optional interval, days of week and hours of day, read in the
/// project's time zone.
public struct Schedule: Sendable, Hashable {
    /// Minutes since local midnight, `[startMinute, endMinute)`; an end at or before the start wraps past
    /// midnight (`22:00-02:00`).
    public struct DailyWindow: Sendable, Hashable {
        public var startMinute: Int
        public var endMinute: Int

        public init(startMinute: Int, endMinute: Int) {
            self.startMinute = startMinute
            self.endMinute = endMinute
        }

        public func contains(minuteOfDay minute: Int) -> Bool {
            if startMinute < endMinute { return minute >= startMinute && minute < endMinute }
            return minute >= startMinute || minute < endMinute
        }
    }

    public var start: Date?
    public var end: Date?
    /// 1 = Sunday … 7 = Saturday (Foundation's `weekday`); empty = every day.
    public var weekdays: Set<Int>
    public var dailyWindow: DailyWindow?

    public init(start: Date? = nil, end: Date? = nil, weekdays: Set<Int> = [], dailyWindow: DailyWindow? = nil) {
        self.start = start
        self.end = end
        self.weekdays = weekdays
        self.dailyWindow = dailyWindow
    }
}
