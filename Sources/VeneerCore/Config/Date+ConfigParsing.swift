import Foundation

extension Date {
    /// Reads an ISO-8601 instant as proxy.conf writes them: `2026-11-01T00:00:00Z`, with optional fractional
    /// seconds and a `Z` or `±hh:mm` offset. Without an offset the time is read in `timeZone`.
    ///
    /// ```swift
    /// Date(configText: "2026-11-01T09:00:00+01:00", timeZone: .gmt)
    /// ```
    init?(configText text: String, timeZone: TimeZone) {
        let scalars = Array(text.trimmingSpaces.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= scalars.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = scalars[index + offset]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < scalars.count, characters.utf8.contains(scalars[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        var nanosecond = 0
        if index < scalars.count, scalars[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < scalars.count, scalars[index] >= UInt8(ascii: "0"), scalars[index] <= UInt8(ascii: "9") {
                if digits < 9 { nanosecond = nanosecond * 10 + Int(scalars[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanosecond *= 10 }
        }
        var offsetMinutes: Int?
        if index < scalars.count {
            if expect("Zz") {
                offsetMinutes = 0
            } else {
                let negative = scalars[index] == UInt8(ascii: "-")
                guard expect("+-"), let offsetHours = number(2), expect(":"), let offsetRest = number(2),
                    offsetHours < 24, offsetRest < 60
                else { return nil }
                offsetMinutes = (negative ? -1 : 1) * (offsetHours * 60 + offsetRest)
            }
        }
        guard index == scalars.count, hour < 24, minute < 60, second < 61 else { return nil }
        let dateTime = ConfigDateTime(
            year: year, month: month, day: day, hour: hour, minute: minute, second: min(second, 59),
            nanosecond: nanosecond, offsetMinutes: offsetMinutes
        )
        guard let date = dateTime.date(in: timeZone) else { return nil }
        self = date
    }
}
