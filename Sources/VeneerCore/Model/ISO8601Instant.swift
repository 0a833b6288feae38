public import Foundation

/// A small, allocation-free ISO-8601 reader for instants: `2026-11-01`, `2026-11-01T09:30:00Z`,
/// `2026-11-01T09:30:00.250+01:00`. A date without a time is midnight UTC.
///
/// ```swift
/// ISO8601Instant.parse("2026-11-01T00:00:00Z")  // Date(timeIntervalSince1970: 1_793_491_200)
/// ```
public enum ISO8601Instant {
    public static func parse(_ text: String) -> Date? {
        var utf8 = Array(text.utf8)[...]
        func number(_ digits: Int) -> Int? {
            guard utf8.count >= digits else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = utf8.removeFirst()
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard utf8.first == byte else { return false }
            utf8.removeFirst()
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if utf8.isEmpty { return Date(timeIntervalSince1970: seconds) }
        guard expect(84) || expect(116) || expect(32), let hour = number(2), expect(58), let minute = number(2),
            hour < 24, minute < 60
        else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if expect(58) {
            guard let second = number(2), second < 61 else { return nil }
            seconds += Double(second)
            if expect(46) || expect(44) {
                var scale = 0.1
                var fraction = 0.0
                var sawDigit = false
                while let byte = utf8.first, byte >= 48, byte <= 57 {
                    fraction += Double(byte - 48) * scale
                    scale /= 10
                    sawDigit = true
                    utf8.removeFirst()
                }
                guard sawDigit else { return nil }
                seconds += fraction
            }
        }
        if expect(90) || expect(122) {
            return utf8.isEmpty ? Date(timeIntervalSince1970: seconds) : nil
        }
        guard let sign = utf8.first, sign == 43 || sign == 45 else { return nil }
        utf8.removeFirst()
        guard let offsetHours = number(2) else { return nil }
        _ = expect(58)
        guard let offsetMinutes = number(2), utf8.isEmpty, offsetHours < 24, offsetMinutes < 60 else { return nil }
        let offset = Double(offsetHours * 3600 + offsetMinutes * 60)
        return Date(timeIntervalSince1970: sign == 43 ? seconds - offset : seconds + offset)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
