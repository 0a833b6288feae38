/// Recursive-descent parser for the selector subset; positions are character offsets so errors
/// point at the column a person sees.
struct SelectorParser {
    private let characters: [Character]
    private var position = 0

    init(_ source: String) {
        self.characters = Array(source)
    }

    mutating func parseList() throws(SelectorError) -> [ComplexSelector] {
        var alternatives: [ComplexSelector] = []
        skipWhitespace()
        if atEnd { throw error("empty selector") }
        while true {
            alternatives.append(try parseComplex())
            skipWhitespace()
            if atEnd { return alternatives }
            guard current == "," else { throw error("unexpected \"\(current!)\"") }
            position += 1
            skipWhitespace()
            if atEnd { throw error("a selector is missing after \",\"") }
        }
    }

    private mutating func parseComplex() throws(SelectorError) -> ComplexSelector {
        var compounds = [try parseCompound()]
        var combinators: [Combinator] = []
        while true {
            let hadWhitespace = skipWhitespace()
            guard let character = current, character != "," else { break }
            switch character {
            case ">":
                position += 1
                skipWhitespace()
                combinators.append(.child)
            case "+", "~":
                throw error("the sibling combinator \"\(character)\" is not supported; use descendant or \">\"")
            default:
                guard hadWhitespace else { throw error("unexpected \"\(character)\"") }
                combinators.append(.descendant)
            }
            if atEnd { throw error("a selector is missing after the combinator") }
            compounds.append(try parseCompound())
        }
        return ComplexSelector(compounds: compounds, combinators: combinators)
    }

    private mutating func parseCompound() throws(SelectorError) -> CompoundSelector {
        var typeName: String?
        var sawType = false
        if current == "*" {
            position += 1
            sawType = true
        } else if let character = current, Self.startsIdentifier(character) || character == "\\" {
            typeName = try parseIdentifier(what: "element name").lowercased()
            sawType = true
        }
        var conditions: [SimpleSelector] = []
        loop: while let character = current {
            switch character {
            case "#":
                position += 1
                conditions.append(.id(try parseIdentifier(what: "id after \"#\"")))
            case ".":
                position += 1
                conditions.append(.className(try parseIdentifier(what: "class name after \".\"")))
            case "[":
                conditions.append(.attribute(try parseAttribute()))
            case ":":
                conditions.append(try parsePseudoClass())
            default:
                break loop
            }
        }
        if !sawType && conditions.isEmpty {
            if let character = current {
                throw error("expected a selector, found \"\(character)\"")
            }
            throw error("expected a selector")
        }
        return CompoundSelector(typeName: typeName, conditions: conditions)
    }

    private mutating func parseAttribute() throws(SelectorError) -> AttributeSelector {
        position += 1  // [
        skipWhitespace()
        let name = try parseIdentifier(what: "attribute name").lowercased()
        skipWhitespace()
        guard let character = current else { throw error("\"]\" expected") }
        if character == "]" {
            position += 1
            return AttributeSelector(name: name)
        }
        let operatorStart = position
        var operatorText = String(character)
        if character != "=" {
            position += 1
            guard current == "=" else {
                throw error("expected \"=\", \"^=\", \"$=\", \"*=\", \"~=\", \"|=\" or \"]\"", at: operatorStart)
            }
            operatorText.append("=")
        }
        position += 1
        guard let match = AttributeSelector.Operator(rawValue: operatorText) else {
            throw error("unknown attribute operator \"\(operatorText)\"", at: operatorStart)
        }
        skipWhitespace()
        let value: String
        if current == "\"" || current == "'" {
            value = try parseString()
        } else {
            value = try parseIdentifier(
                what: "attribute value (quote it if it is not an identifier)", allowsLeadingDigit: true)
        }
        skipWhitespace()
        var caseInsensitive = false
        if current == "i" || current == "I" || current == "s" || current == "S" {
            caseInsensitive = current == "i" || current == "I"
            position += 1
            skipWhitespace()
        }
        guard current == "]" else { throw error("\"]\" expected") }
        position += 1
        return AttributeSelector(name: name, match: match, value: value, caseInsensitive: caseInsensitive)
    }

    private mutating func parsePseudoClass() throws(SelectorError) -> SimpleSelector {
        let start = position
        position += 1  // :
        if current == ":" { throw error("pseudo-elements are not supported", at: start) }
        let name = try parseIdentifier(what: "pseudo-class name after \":\"").lowercased()
        switch name {
        case "first-child":
            return .firstChild
        case "nth-child":
            guard current == "(" else { throw error("\":nth-child\" needs an argument, e.g. :nth-child(2n+1)") }
            position += 1
            let argumentStart = position
            var argument = ""
            while let character = current, character != ")" {
                argument.append(character)
                position += 1
            }
            guard current == ")" else { throw error("\")\" expected") }
            guard let (a, b) = Self.parseNth(argument) else {
                throw error("\":nth-child\" takes an+b, odd or even, not \"\(argument)\"", at: argumentStart)
            }
            position += 1
            return .nthChild(a: a, b: b)
        case "not":
            guard current == "(" else { throw error("\":not\" needs a selector in parentheses") }
            position += 1
            skipWhitespace()
            let inner = try parseCompound()
            skipWhitespace()
            guard current == ")" else { throw error("\":not\" takes one compound selector; \")\" expected") }
            position += 1
            return .not(inner)
        default:
            throw error(
                "unsupported pseudo-class \":\(name)\"; supported: :first-child, :nth-child(), :not()", at: start)
        }
    }

    /// Parses the `an+b` micro-syntax (whitespace allowed around the sign).
    static func parseNth(_ text: String) -> (Int, Int)? {
        let compact = text.lowercased().filter { !$0.isWhitespace }
        if compact == "odd" { return (2, 1) }
        if compact == "even" { return (2, 0) }
        guard !compact.isEmpty else { return nil }
        if let nIndex = compact.firstIndex(of: "n") {
            let aText = compact[..<nIndex]
            let a: Int
            switch aText {
            case "", "+": a = 1
            case "-": a = -1
            default:
                guard let value = Int(aText), value.magnitude < 1_000_000 else { return nil }
                a = value
            }
            let bText = compact[compact.index(after: nIndex)...]
            if bText.isEmpty { return (a, 0) }
            guard let first = bText.first, first == "+" || first == "-",
                bText.dropFirst().allSatisfy(\.isASCIIDigit), bText.count > 1,
                let b = Int(bText.first == "+" ? String(bText.dropFirst()) : String(bText)), b.magnitude < 1_000_000
            else { return nil }
            return (a, b)
        }
        guard compact.dropFirst(compact.first == "+" || compact.first == "-" ? 1 : 0).allSatisfy(\.isASCIIDigit),
            let b = Int(compact.first == "+" ? String(compact.dropFirst()) : compact), b.magnitude < 1_000_000
        else { return nil }
        return (0, b)
    }

    private mutating func parseString() throws(SelectorError) -> String {
        let quote = current!
        let start = position
        position += 1
        var value = ""
        while let character = current {
            position += 1
            if character == quote { return value }
            if character == "\\" {
                value.append(try parseEscape())
            } else {
                value.append(character)
            }
        }
        throw error("unterminated string", at: start)
    }

    private mutating func parseIdentifier(
        what: String, allowsLeadingDigit: Bool = false
    ) throws(SelectorError) -> String {
        var identifier = ""
        let start = position
        if !allowsLeadingDigit, let first = current, first.isASCIIDigit {
            throw error("\(what) cannot start with a digit (escape it as \\3\(first) )")
        }
        while let character = current {
            if character == "\\" {
                position += 1
                identifier.append(try parseEscape())
            } else if Self.continuesIdentifier(character) {
                identifier.append(character)
                position += 1
            } else {
                break
            }
        }
        if identifier.isEmpty {
            if let character = current { throw error("expected \(what), found \"\(character)\"", at: start) }
            throw error("expected \(what)", at: start)
        }
        return identifier
    }

    /// After a backslash: up to six hex digits and one optional space, or any other character as itself.
    private mutating func parseEscape() throws(SelectorError) -> Character {
        guard let character = current else { throw error("a backslash ends the selector") }
        if character.isHexDigit {
            var hex = ""
            while let digit = current, digit.isHexDigit, hex.count < 6 {
                hex.append(digit)
                position += 1
            }
            if current == " " { position += 1 }
            guard let value = UInt32(hex, radix: 16), value != 0, let scalar = Unicode.Scalar(value) else {
                return "\u{FFFD}"
            }
            return Character(scalar)
        }
        position += 1
        return character
    }

    static func startsIdentifier(_ character: Character) -> Bool {
        character.isLetter || character == "_" || character == "-" || !character.isASCII
    }

    static func continuesIdentifier(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "_" || character == "-" || !character.isASCII
    }

    private var atEnd: Bool { position >= characters.count }

    private var current: Character? { position < characters.count ? characters[position] : nil }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = position
        while let character = current, character.isHTMLWhitespace { position += 1 }
        return position > start
    }

    private func error(_ message: String, at position: Int? = nil) -> SelectorError {
        SelectorError(column: (position ?? self.position) + 1, message: message)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
