import Foundation

extension Condition {
    /// Whether `value` satisfies this condition. Comparisons are typed: numbers compare as numbers (a
    /// numeric string counts), dates as instants; a missing value satisfies only `exists = false`,
    /// `not_equals` and `not_in`.
    public func evaluate(_ value: JSONValue?) -> Bool {
        let present: JSONValue? = (value == nil || value == .null) ? nil : value
        switch self {
        case .exists(let expected):
            return (present != nil) == expected
        case .notEquals(let operand):
            guard let present else { return true }
            return !Self.equal(present, operand)
        case .notIn(let operands):
            guard let present else { return true }
            return !operands.contains { Self.equal(present, $0) }
        default:
            break
        }
        guard let present else { return false }
        switch self {
        case .equals(let operand):
            return Self.equal(present, operand)
        case .isIn(let operands):
            return operands.contains { Self.equal(present, $0) }
        case .contains(let needle):
            if case .array(let elements) = present { return elements.contains { $0.text == needle } }
            let text = present.text
            return text.asciiContains(needle) ?? text.contains(needle)
        case .startsWith(let prefix):
            return present.text.hasPrefix(prefix)
        case .endsWith(let suffix):
            return present.text.hasSuffix(suffix)
        case .matches(let pattern):
            return pattern.matches(present.text)
        case .greaterThan(let operand):
            return Self.number(present).map { $0 > operand } ?? false
        case .greaterThanOrEqual(let operand):
            return Self.number(present).map { $0 >= operand } ?? false
        case .lessThan(let operand):
            return Self.number(present).map { $0 < operand } ?? false
        case .lessThanOrEqual(let operand):
            return Self.number(present).map { $0 <= operand } ?? false
        case .before(let instant):
            return Self.instant(present).map { $0 < instant.timeIntervalSince1970 } ?? false
        case .after(let instant):
            return Self.instant(present).map { $0 > instant.timeIntervalSince1970 } ?? false
        case .exists, .notEquals, .notIn:
            return false  // answered above
        }
    }

    static func equal(_ value: JSONValue, _ operand: JSONValue) -> Bool {
        switch operand {
        case .number(let expected):
            return number(value) == expected
        case .bool(let expected):
            switch value {
            case .bool(let actual): return actual == expected
            case .string(let text): return text == (expected ? "true" : "false")
            default: return false
            }
        case .string(let expected):
            if case .number = value, let parsed = Double(expected) { return number(value) == parsed }
            return value.text == expected
        case .null:
            return value == .null
        case .array, .object:
            return value == operand
        }
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): return number
        case .string(let text): return Double(text.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }

    /// Seconds since 1970: an ISO-8601 string, or a number (milliseconds when it is that large).
    static func instant(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let number): return number > 100_000_000_000 ? number / 1000 : number
        case .string(let text): return ISO8601Instant.parse(text)?.timeIntervalSince1970
        default: return nil
        }
    }
}
