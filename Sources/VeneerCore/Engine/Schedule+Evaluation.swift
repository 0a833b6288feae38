public import Foundation

extension Schedule {
    /// Whether `now` falls inside the schedule, with days and hours read in `timeZone` (DST-aware: the
    /// zone's offset is taken for that very instant).
    public func admits(_ now: Date, timeZone: TimeZone) -> Bool {
        if let start, now < start { return false }
        if let end, now >= end { return false }
        if weekdays.isEmpty, dailyWindow == nil { return true }
        let local = LocalTime(now, timeZone: timeZone)
        if !weekdays.isEmpty, !weekdays.contains(local.weekday) { return false }
        if let dailyWindow, !dailyWindow.contains(minuteOfDay: local.minuteOfDay) { return false }
        return true
    }
}

/// The weekday and minute of day of an instant in a zone, by arithmetic rather than Calendar.
struct LocalTime {
    /// 1 = Sunday … 7 = Saturday.
    let weekday: Int
    let minuteOfDay: Int

    init(_ instant: Date, timeZone: TimeZone) {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down)) + Int64(timeZone.secondsFromGMT(for: instant))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        minuteOfDay = Int(secondOfDay / 60)
        // 1970-01-01 was a Thursday (weekday 5).
        let weekdayIndex = ((days + 4) % 7 + 7) % 7  // 0 = Sunday
        weekday = Int(weekdayIndex) + 1
    }
}
