/// Where each key of proxy.conf is written. TOMLKit reports positions only for syntax errors, so this is a
/// small scan of the text that follows `[table]` and `[[array]]` headers (counting array elements), `key =`
/// lines, dotted keys, and keys and elements inside inline tables and arrays.
///
/// The scan is forgiving: it never fails, and on text it does not understand it skips to the next line.
struct ConfigSourceMap: Sendable {
    struct Location: Sendable, Hashable {
        /// The key (or, for an array element, the value) — 1-based.
        var line: Int
        var column: Int
        /// Where the value starts (its opening quote for strings).
        var valueLine: Int
        var valueColumn: Int
        /// The value is a `"""` or `'''` string, so its own line breaks are lines of the file.
        var valueIsMultilineString = false
        /// Length of the opening quote: 1 for `"…"`, 3 for `"""…"""`, 0 for other values.
        var quoteLength = 0
    }

    private(set) var locations: [String: Location] = [:]
    /// The first of two mistakes toml++ asserts on instead of reporting (an assertion in debug builds,
    /// undefined behaviour in release): a table header whose name starts with a character no key can start
    /// with (`[=`, `[` at the end of a line), and `}` where an array expects a value (`[1, }`).
    private(set) var malformedSyntax: (line: Int, column: Int, message: String)?

    init(text: String) {
        var scanner = Scanner(bytes: Array(text.utf8))
        scanner.scanDocument()
        locations = scanner.locations
        malformedSyntax = scanner.malformedSyntax
    }

    /// The location of `path`, or of its nearest ancestor that the scan saw.
    func location(for path: ConfigPath) -> Location? {
        var current: ConfigPath? = path
        while let candidate = current {
            if let location = locations[candidate.description] { return location }
            current = candidate.parent
        }
        return nil
    }

    /// The exact location of `path`, without falling back to an ancestor.
    func exactLocation(for path: ConfigPath) -> Location? {
        locations[path.description]
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0
        var locations: [String: Location] = [:]
        var arrayCounts: [String: Int] = [:]
        var currentTable = ConfigPath.root
        var malformedSyntax: (line: Int, column: Int, message: String)?

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var column: Int { index - lineStart + 1 }
        var atEnd: Bool { index >= bytes.count }
        var current: UInt8 { bytes[index] }

        func peek(_ offset: Int) -> UInt8? {
            index + offset < bytes.count ? bytes[index + offset] : nil
        }

        mutating func advance() {
            guard !atEnd else { return }
            if bytes[index] == UInt8(ascii: "\n") {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }

        mutating func skipSpaces() {
            while !atEnd, current == UInt8(ascii: " ") || current == UInt8(ascii: "\t") { advance() }
        }

        /// Spaces, line breaks and comments.
        mutating func skipBlank() {
            while !atEnd {
                switch current {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): advance()
                case UInt8(ascii: "#"): skipToEndOfLine()
                default: return
                }
            }
        }

        mutating func skipToEndOfLine() {
            while !atEnd, current != UInt8(ascii: "\n") { advance() }
        }

        mutating func scanDocument() {
            while !atEnd {
                skipBlank()
                guard !atEnd else { return }
                let start = index
                if current == UInt8(ascii: "[") {
                    scanHeader()
                } else {
                    scanKeyValue(in: currentTable)
                }
                skipSpaces()
                if !atEnd, current != UInt8(ascii: "\n"), current != UInt8(ascii: "#") {
                    // Not understood: resynchronize on the next line.
                    skipToEndOfLine()
                }
                if index == start { advance() }
            }
        }

        mutating func scanHeader() {
            let headerLine = line
            let headerColumn = column
            let isArray = peek(1) == UInt8(ascii: "[")
            advance()
            if isArray { advance() }
            skipSpaces()
            if !atEnd, malformedSyntax == nil, !Self.isBareKeyByte(current), current != UInt8(ascii: "\""),
                current != UInt8(ascii: "'"), current != UInt8(ascii: "]")
            {
                malformedSyntax = (line, column, "a table header needs a name, such as [server] or [[route]]")
            }
            let keys = scanKeys()
            skipSpaces()
            if !atEnd, current == UInt8(ascii: "]") { advance() }
            if isArray, !atEnd, current == UInt8(ascii: "]") { advance() }
            guard !keys.isEmpty else { return }
            let location = Location(
                line: headerLine, column: headerColumn, valueLine: headerLine, valueColumn: headerColumn)
            if isArray {
                let arrayPath = resolve(keys.dropLast()).appending(keys[keys.count - 1])
                let count = arrayCounts[arrayPath.description, default: 0]
                arrayCounts[arrayPath.description] = count + 1
                currentTable = arrayPath[count]
                if locations[arrayPath.description] == nil { locations[arrayPath.description] = location }
            } else {
                currentTable = resolve(keys[...])
            }
            locations[currentTable.description] = location
        }

        /// A header's keys, walking into the last element of arrays of tables on the way.
        func resolve(_ keys: ArraySlice<String>) -> ConfigPath {
            var path = ConfigPath.root
            for key in keys {
                path = path.appending(key)
                if let count = arrayCounts[path.description], count > 0 { path = path[count - 1] }
            }
            return path
        }

        mutating func scanKeyValue(in table: ConfigPath) {
            let keyLine = line
            let keyColumn = column
            let keys = scanKeys()
            guard !keys.isEmpty else { return }
            skipSpaces()
            guard !atEnd, current == UInt8(ascii: "=") else { return }
            advance()
            skipSpaces()
            let path = table.appending(keys: keys)
            record(path, line: keyLine, column: keyColumn)
            scanValue(path)
        }

        mutating func record(_ path: ConfigPath, line keyLine: Int, column keyColumn: Int) {
            var location = Location(line: keyLine, column: keyColumn, valueLine: line, valueColumn: column)
            if !atEnd {
                let tripleDouble = current == UInt8(ascii: "\"") && peek(1) == current && peek(2) == current
                let tripleSingle = current == UInt8(ascii: "'") && peek(1) == current && peek(2) == current
                if tripleDouble || tripleSingle {
                    location.valueIsMultilineString = true
                    location.quoteLength = 3
                } else if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
                    location.quoteLength = 1
                }
            }
            locations[path.description] = location
        }

        mutating func scanKeys() -> [String] {
            var keys: [String] = []
            while !atEnd {
                skipSpaces()
                guard !atEnd else { break }
                if current == UInt8(ascii: "\"") || current == UInt8(ascii: "'") {
                    keys.append(scanQuotedKey())
                } else {
                    let start = index
                    while !atEnd, Self.isBareKeyByte(current) { advance() }
                    guard index > start else { break }
                    keys.append(String(decoding: bytes[start..<index], as: UTF8.self))
                }
                skipSpaces()
                guard !atEnd, current == UInt8(ascii: ".") else { break }
                advance()
            }
            return keys
        }

        mutating func scanQuotedKey() -> String {
            let quote = current
            advance()
            var content: [UInt8] = []
            while !atEnd, current != quote, current != UInt8(ascii: "\n") {
                if quote == UInt8(ascii: "\""), current == UInt8(ascii: "\\") {
                    advance()
                    guard !atEnd else { break }
                }
                content.append(current)
                advance()
            }
            if !atEnd, current == quote { advance() }
            return String(decoding: content, as: UTF8.self)
        }

        static func isBareKeyByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }

        mutating func scanValue(_ path: ConfigPath) {
            guard !atEnd else { return }
            switch current {
            case UInt8(ascii: "{"): scanInlineTable(path)
            case UInt8(ascii: "["): scanArray(path)
            case UInt8(ascii: "\""), UInt8(ascii: "'"): scanString()
            default:
                while !atEnd {
                    switch current {
                    case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "\n"),
                        UInt8(ascii: "\r"),
                        UInt8(ascii: "#"):
                        return
                    default: advance()
                    }
                }
            }
        }

        mutating func scanInlineTable(_ path: ConfigPath) {
            advance()
            while !atEnd {
                skipBlank()
                guard !atEnd else { return }
                if current == UInt8(ascii: "}") {
                    advance()
                    return
                }
                let start = index
                scanKeyValue(in: path)
                skipBlank()
                if !atEnd, current == UInt8(ascii: ",") { advance() }
                if index == start { return }
            }
        }

        mutating func scanArray(_ path: ConfigPath) {
            advance()
            var elementIndex = 0
            while !atEnd {
                skipBlank()
                guard !atEnd else { return }
                if current == UInt8(ascii: "]") {
                    advance()
                    return
                }
                if current == UInt8(ascii: "}") {
                    if malformedSyntax == nil {
                        malformedSyntax = (line, column, "expected a value or a closing \"]\", saw \"}\"")
                    }
                    return
                }
                let start = index
                let elementPath = path[elementIndex]
                record(elementPath, line: line, column: column)
                scanValue(elementPath)
                elementIndex += 1
                skipBlank()
                if !atEnd, current == UInt8(ascii: ",") { advance() }
                if index == start { return }
            }
        }

        mutating func scanString() {
            let quote = current
            if peek(1) == quote, peek(2) == quote {
                advance()
                advance()
                advance()
                while !atEnd {
                    if quote == UInt8(ascii: "\""), current == UInt8(ascii: "\\") {
                        advance()
                        advance()
                        continue
                    }
                    if current == quote, peek(1) == quote, peek(2) == quote {
                        advance()
                        advance()
                        advance()
                        // Up to two more quotes may belong to the content (`""""` ends with one in the string).
                        while !atEnd, current == quote { advance() }
                        return
                    }
                    advance()
                }
                return
            }
            advance()
            while !atEnd, current != quote, current != UInt8(ascii: "\n") {
                if quote == UInt8(ascii: "\""), current == UInt8(ascii: "\\") { advance() }
                advance()
            }
            if !atEnd, current == quote { advance() }
        }
    }
}
