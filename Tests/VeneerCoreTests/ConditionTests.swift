import Foundation
import Testing
import VeneerCore

struct ConditionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let condition: Condition
        let value: JSONValue?
        let expected: Bool
        var testDescription: String { "\(condition) on \(String(describing: value)) → \(expected)" }
    }

    static let date = ISO8601Instant.parse("2026-06-01T00:00:00Z")!

    static let cases: [Case] = [
        Case(condition: .equals("pro"), value: "pro", expected: true),
        Case(condition: .equals("pro"), value: "Pro", expected: false),
        Case(condition: .equals("pro"), value: nil, expected: false),
        Case(condition: .equals(3), value: "3", expected: true),  // numbers compare as numbers
        Case(condition: .equals(3), value: 3.0, expected: true),
        Case(condition: .equals("3.0"), value: 3, expected: true),
        Case(condition: .equals(true), value: "true", expected: true),
        Case(condition: .equals(true), value: false, expected: false),
        Case(condition: .notEquals("pro"), value: "free", expected: true),
        Case(condition: .notEquals("pro"), value: "pro", expected: false),
        Case(condition: .notEquals("pro"), value: nil, expected: true),
        Case(condition: .isIn(["a", "b"]), value: "b", expected: true),
        Case(condition: .isIn(["a", "b"]), value: "c", expected: false),
        Case(condition: .isIn([1, 2]), value: "2", expected: true),
        Case(condition: .notIn(["a", "b"]), value: "c", expected: true),
        Case(condition: .notIn(["a", "b"]), value: "a", expected: false),
        Case(condition: .notIn(["a"]), value: nil, expected: true),
        Case(condition: .contains("sale"), value: "big sale today", expected: true),
        Case(condition: .contains("vip"), value: ["new", "vip"], expected: true),
        Case(condition: .contains("vip"), value: ["new"], expected: false),
        Case(condition: .startsWith("/shop"), value: "/shop/shoes", expected: true),
        Case(condition: .startsWith("/shop"), value: "/blog", expected: false),
        Case(condition: .endsWith(".com"), value: "a@b.com", expected: true),
        Case(condition: .matches(try! CompiledPattern("^ord-[0-9]+$")), value: "ord-42", expected: true),
        Case(condition: .matches(try! CompiledPattern("^ord-[0-9]+$")), value: "ord-x", expected: false),
        Case(condition: .exists(true), value: "x", expected: true),
        Case(condition: .exists(true), value: nil, expected: false),
        Case(condition: .exists(true), value: .null, expected: false),
        Case(condition: .exists(false), value: nil, expected: true),
        Case(condition: .greaterThan(50), value: 50.5, expected: true),
        Case(condition: .greaterThan(50), value: 50, expected: false),
        Case(condition: .greaterThan(9), value: "10", expected: true),  // not "10" < "9" as text
        Case(condition: .greaterThan(9), value: "ten", expected: false),
        Case(condition: .greaterThanOrEqual(50), value: 50, expected: true),
        Case(condition: .lessThan(10), value: 9.99, expected: true),
        Case(condition: .lessThan(10), value: nil, expected: false),
        Case(condition: .lessThanOrEqual(10), value: 10, expected: true),
        Case(condition: .before(date), value: "2026-05-31T23:59:59Z", expected: true),
        Case(condition: .before(date), value: "2026-06-01T02:00:00+03:00", expected: true),
        Case(condition: .before(date), value: "2026-06-01T00:00:01Z", expected: false),
        Case(condition: .after(date), value: "2026-06-02", expected: true),
        Case(condition: .after(date), value: .number(1_790_000_000_000), expected: true),  // milliseconds (2026-09-21)
        Case(condition: .after(date), value: "not a date", expected: false),
    ]

    @Test(arguments: cases)
    func evaluates(_ testCase: Case) {
        #expect(testCase.condition.evaluate(testCase.value) == testCase.expected)
    }

    @Test func parsesInstants() {
        #expect(ISO8601Instant.parse("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        #expect(ISO8601Instant.parse("2026-11-01T00:00:00Z")?.timeIntervalSince1970 == 1_793_491_200)
        #expect(ISO8601Instant.parse("2024-02-29")?.timeIntervalSince1970 == 1_709_164_800)
        #expect(ISO8601Instant.parse("2026-11-01T00:00:00.5Z")?.timeIntervalSince1970 == 1_793_491_200.5)
        #expect(ISO8601Instant.parse("2026-11-01T01:00:00+01:00")?.timeIntervalSince1970 == 1_793_491_200)
        for bad in [
            "", "2026", "2026-13-01", "2025-02-29", "2026-11-01T25:00:00Z", "2026-11-01T10:00:00Zjunk", "yesterday",
        ] {
            #expect(ISO8601Instant.parse(bad) == nil, "\(bad)")
        }
    }
}

struct CompiledPatternTests {
    @Test(
        arguments: [
            ("/checkout/[0-9]+$", "/checkout/"),
            ("^ord-[0-9]+$", "ord-"),
            ("colou?r", "colo"),
            ("abc*", "ab"),
            ("(optional)?tail", "tail"),
            ("x{0,3}yz", "yz"),
            ("a|b", nil),
            ("(?i)sale", nil),
            ("[abc]+", nil),
            ("\\d+\\.\\d+", nil),
            ("hello\\sworld", "hello"),
        ] as [(String, String?)])
    func requiredLiteralIsOnlyWhatEveryMatchContains(_ pattern: String, _ literal: String?) throws {
        #expect(try CompiledPattern(pattern).requiredLiteralForTesting == literal)
    }

    @Test func prefilterNeverChangesTheAnswer() throws {
        let patterns = ["colou?r", "abc*", "(optional)?tail", "/checkout/[0-9]+$", "x{0,3}yz", "(?i)SALE", "a|b"]
        let texts = [
            "color", "colour", "ab", "abccc", "tail", "optionaltail", "/checkout/12", "/checkout/x", "yz", "xxyz",
            "sale", "big SALE", "b", "zzz", "",
        ]
        for pattern in patterns {
            let compiled = try CompiledPattern(pattern)
            let plain = try NSRegularExpression(pattern: pattern)
            for text in texts {
                let expected = plain.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(compiled.matches(text) == expected, "\(pattern) on \(text)")
            }
        }
    }
}
