import Foundation
import TOMLKit

/// proxy.conf as a plain value tree. TOMLKit's nodes are classes bound to one C++ document, so the document is
/// converted once and everything after works on values.
indirect enum ConfigNode: Sendable, Hashable {
    case table([String: ConfigNode])
    case array([ConfigNode])
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case dateTime(ConfigDateTime)
    case date(year: Int, month: Int, day: Int)
    case time(hour: Int, minute: Int, second: Int)

    init(_ value: any TOMLValueConvertible) {
        switch value.type {
        case .table:
            var entries: [String: ConfigNode] = [:]
            if let table = value.table {
                for key in table.keys {
                    if let child = table[key] { entries[key] = ConfigNode(child) }
                }
            }
            self = .table(entries)
        case .array:
            self = .array(value.array.map { array in array.map { ConfigNode($0) } } ?? [])
        case .string:
            self = .string(value.string ?? "")
        case .int:
            self = .integer(value.int ?? 0)
        case .double:
            self = .float(value.double ?? 0)
        case .bool:
            self = .bool(value.bool ?? false)
        case .date:
            let date = value.date
            self = .date(year: date?.year ?? 0, month: date?.month ?? 0, day: date?.day ?? 0)
        case .time:
            let time = value.time
            self = .time(hour: time?.hour ?? 0, minute: time?.minute ?? 0, second: time?.second ?? 0)
        case .dateTime:
            guard let dateTime = value.dateTime else {
                self = .string("")
                return
            }
            self = .dateTime(
                ConfigDateTime(
                    year: dateTime.date.year, month: dateTime.date.month, day: dateTime.date.day,
                    hour: dateTime.time.hour, minute: dateTime.time.minute, second: dateTime.time.second,
                    nanosecond: dateTime.time.nanoSecond, offsetMinutes: dateTime.offset?.offset
                )
            )
        }
    }

    /// How the value is named in "expected …, found …" messages.
    var typeName: String {
        switch self {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a number"
        case .bool: return "a boolean"
        case .dateTime: return "a date-time"
        case .date: return "a date"
        case .time: return "a time"
        }
    }

    var tableValue: [String: ConfigNode]? {
        if case .table(let table) = self { return table }
        return nil
    }

    var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The value as JSON, for payloads: integers become numbers, dates and times their TOML text.
    var jsonValue: JSONValue {
        switch self {
        case .table(let table): return .object(table.mapValues(\.jsonValue))
        case .array(let array): return .array(array.map(\.jsonValue))
        case .string(let string): return .string(string)
        case .integer(let integer): return .number(Double(integer))
        case .float(let float): return .number(float)
        case .bool(let bool): return .bool(bool)
        case .dateTime(let dateTime): return .string(dateTime.text)
        case .date(let year, let month, let day): return .string(ConfigDateTime.dateText(year, month, day))
        case .time(let hour, let minute, let second):
            return .string(ConfigDateTime.timeText(hour, minute, second))
        }
    }
}

/// A TOML date-time literal; `offsetMinutes` is nil for a local date-time.
struct ConfigDateTime: Sendable, Hashable {
    var year, month, day, hour, minute, second, nanosecond: Int
    var offsetMinutes: Int?

    /// The instant, reading a local date-time in `timeZone`.
    func date(in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = offsetMinutes.flatMap { TimeZone(secondsFromGMT: $0 * 60) } ?? timeZone
        let components = DateComponents(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, nanosecond: nanosecond
        )
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    var text: String {
        var text = Self.dateText(year, month, day) + "T" + Self.timeText(hour, minute, second)
        if let offsetMinutes {
            if offsetMinutes == 0 {
                text += "Z"
            } else {
                let sign = offsetMinutes < 0 ? "-" : "+"
                text += sign + Self.twoDigits(abs(offsetMinutes) / 60) + ":" + Self.twoDigits(abs(offsetMinutes) % 60)
            }
        }
        return text
    }

    static func dateText(_ year: Int, _ month: Int, _ day: Int) -> String {
        let yearText = String(year)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + twoDigits(month) + "-"
            + twoDigits(day)
    }

    static func timeText(_ hour: Int, _ minute: Int, _ second: Int) -> String {
        twoDigits(hour) + ":" + twoDigits(minute) + ":" + twoDigits(second)
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
