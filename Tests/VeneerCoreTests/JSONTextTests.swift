import Foundation
import Testing
import VeneerCore

/// JSON text is written two ways: pieces appended to a String (payloads, API answers) and bytes appended to an
/// array (journal lines, store columns). Both must print every value alike, and the text must parse back.
@Suite("JSON text")
struct JSONTextTests {
    static let values: [JSONValue] = [
        nil, true, false, 0, -0.0, 1, -1, 42, 1_764_000_000_123, -1_764_000_000_123, 999_999_999_999_999,
        1e15, 1e300, 2.5, -0.125, 1e-7, .number(.infinity), .number(.nan),
        "", "plain", "quote \" backslash \\ slash /", "tab\tnewline\ncarriage\r", "\u{0}\u{1}\u{1f}\u{7f}",
        "<script>alert(1)</script>", "line\u{2028}paragraph\u{2029}end", "\u{2027}\u{202A}€ and ✓ keep",
        "Zoë, 東京, 🎉", "ends with \u{2028}", "ends with ✓", "e\u{301} decomposed",
        [], [1, "two", nil, [true]],
        [:],
        [
            "b": 1, "a": ["nested": ["deep": "x"]], "B": "upper before lower", "é": "after ASCII", "": "empty key",
            "with \"quote\"": "key escaped", "\u{2028}": "separator key",
        ],
    ]

    @Test(arguments: values)
    func bytesAndStringPrintAlike(value: JSONValue) throws {
        var text = ""
        value.write(into: &text)
        var bytes: [UInt8] = []
        value.write(into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == text)
        #expect(value.jsonText() == text)
    }

    @Test(arguments: values)
    func theTextParsesBack(value: JSONValue) throws {
        // Top-level scalars are JSON text too; a non-finite number prints null.
        let parsed = try JSONValue(jsonData: Data(value.jsonText().utf8))
        if case .number(let number) = value, !number.isFinite {
            #expect(parsed == .null)
        } else {
            #expect(parsed == value)
        }
    }

    @Test func escapesAreTheOnesAScriptTagNeeds() {
        #expect(JSONValue.string("a<b\u{2028}\u{1}\"\\").jsonText() == #""a\u003cb\u2028\u0001\"\\""#)
        #expect(JSONValue.object(["z": 1, "a": [2.5, nil]]).jsonText() == #"{"a":[2.5,null],"z":1}"#)
        #expect(JSONValue.number(-1_764_000_000_123).jsonText() == "-1764000000123")
    }
}
