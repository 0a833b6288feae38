extension JSONValue {
    /// Appends `jsonText()` as UTF-8 bytes. Every event the proxy records is written this way twice (journal
    /// line, store column): bytes appended to an array cost a fraction of what pieces appended to a String do.
    ///
    /// ```swift
    /// var line: [UInt8] = []
    /// JSONValue.object(event.data).write(into: &line)
    /// ```
    public func write(into output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let bool): output.append(contentsOf: bool ? "true".utf8 : "false".utf8)
        case .number(let number): JSONValue.writeNumber(number, into: &output)
        case .string(let string): JSONValue.writeQuoted(string, into: &output)
        case .array(let array):
            output.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            output.append(UInt8(ascii: "{"))
            // Members sorted by key, so equal objects print alike; sorting the pairs spares a lookup per key.
            for (index, member) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.writeQuoted(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                member.value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `string` as a JSON string literal: `"`, `\\` and control characters escaped, and `<`, U+2028 and
    /// U+2029 too, so that the text is safe inside an HTML `<script>`.
    public static func writeQuoted(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            // Most strings (ids, names, URLs) need no escape: copied whole.
            guard bytes.contains(where: mayNeedEscape) else {
                output.append(contentsOf: bytes)
                return
            }
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case 0x22: output.append(contentsOf: #"\""#.utf8)
                case 0x5C: output.append(contentsOf: #"\\"#.utf8)
                case 0x0A: output.append(contentsOf: #"\n"#.utf8)
                case 0x0D: output.append(contentsOf: #"\r"#.utf8)
                case 0x09: output.append(contentsOf: #"\t"#.utf8)
                // Keeps JSON safe inside an HTML <script>.
                case 0x3C: output.append(contentsOf: #"\u003c"#.utf8)
                case 0xE2
                where index + 2 < bytes.count && bytes[index + 1] == 0x80
                    && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                    // U+2028 and U+2029 end a line in JavaScript.
                    output.append(contentsOf: (bytes[index + 2] == 0xA8 ? #"\u2028"# : #"\u2029"#).utf8)
                    index += 2
                case ..<0x20:
                    output.append(contentsOf: #"\u00"#.utf8)
                    output.append(hexDigit(byte >> 4))
                    output.append(hexDigit(byte & 0x0F))
                default:
                    output.append(byte)
                }
                index += 1
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// A byte that is escaped, or may start a sequence that is (U+2028 and U+2029 begin with 0xE2).
    static func mayNeedEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x3C || byte == 0xE2
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// Whole numbers (ids, counts, timestamps) in digits without a String; others as `format` prints them.
    static func writeNumber(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        guard number == number.rounded(), abs(number) < 1e15 else {
            output.append(contentsOf: format(number).utf8)
            return
        }
        var value = Int64(number)
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            value = -value
        }
        UInt64(value).withDecimalDigits { output.append(contentsOf: $0) }
    }
}
