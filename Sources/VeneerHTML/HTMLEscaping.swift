import VeneerCore

/// Escaping for the two places the rewriter writes text into a page.
enum HTMLEscaping {
    /// Element text: `&`, `<`, `>`.
    static func text(_ text: String) -> String {
        guard
            text.utf8.contains(where: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") })
        else {
            return text
        }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// A double-quoted attribute value: `&`, `"`, `<`, `>`, `'` (VeneerCore's escaper).
    static func attribute(_ text: String) -> String {
        text.htmlEscaped
    }

    /// Whether `name` can be written as an attribute name (HTML forbids whitespace, quotes, `/`, `=`, `>`, `<`).
    static func isValidAttributeName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.value > 0x20 && scalar.value != 0x7F && !"\"'/=<>`".unicodeScalars.contains(scalar)
            }
    }
}
