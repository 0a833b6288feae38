/// A compiled CSS selector list: the subset of DESIGN.md §4.
///
/// Type, `*`, `#id`, `.class`, `[attr]`, `[attr=v]`, `^=`, `$=`, `*=`, `~=`, `|=` (with an
/// optional ` i` flag), descendant and `>` child combinators, `:first-child`, `:nth-child(an+b)`
/// (`odd`, `even`), `:not(compound)` and `,` lists. Compiled once at config load; a bad selector
/// throws with its 1-based column.
///
/// ```swift
/// let selector = try CSSSelector(parsing: "main > .card:nth-child(2n+1), #hero")
/// selector.alternatives.count          // 2
/// selector.alternatives[1].requiredFragments  // ["hero"]
/// ```
public struct CSSSelector: Sendable, Hashable, CustomStringConvertible {
    /// The text the selector was compiled from.
    public let source: String
    /// The comma-separated alternatives; an element matches when any of them matches.
    public let alternatives: [ComplexSelector]

    public init(parsing source: String) throws(SelectorError) {
        self.source = source
        var parser = SelectorParser(source)
        self.alternatives = try parser.parseList()
    }

    public var description: String { source }

    public static func == (left: CSSSelector, right: CSSSelector) -> Bool { left.source == right.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

/// Compound selectors joined by combinators, e.g. `main > .card a`.
public struct ComplexSelector: Sendable, Hashable {
    /// Left to right; the last one (the subject) is the element that is changed.
    public var compounds: [CompoundSelector]
    /// `combinators[i]` joins `compounds[i]` and `compounds[i + 1]`.
    public var combinators: [Combinator]

    public init(compounds: [CompoundSelector], combinators: [Combinator]) {
        self.compounds = compounds
        self.combinators = combinators
    }

    /// The compound the changed element itself must match.
    public var subject: CompoundSelector { compounds[compounds.count - 1] }

    /// Text that must occur verbatim in a page for this alternative to match anything there: the
    /// ids, class names and ASCII attribute values (case-sensitive matches) it requires, outside
    /// `:not`. A page that lacks one of them needs no parse.
    public var requiredFragments: [String] { compounds.flatMap(\.requiredFragments) }
}

public enum Combinator: Sendable, Hashable {
    /// `a b`: `b` somewhere inside `a`.
    case descendant
    /// `a > b`: `b` a child of `a`.
    case child
}

/// A type selector (or none) plus conditions on one element, e.g. `a.button[href^="/"]:first-child`.
public struct CompoundSelector: Sendable, Hashable {
    /// Lower-cased element name; nil for `*` or no type.
    public var typeName: String?
    public var conditions: [SimpleSelector]

    public init(typeName: String?, conditions: [SimpleSelector]) {
        self.typeName = typeName
        self.conditions = conditions
    }

    /// See `ComplexSelector.requiredFragments`.
    public var requiredFragments: [String] {
        conditions.compactMap { condition in
            switch condition {
            case .id(let id): return id.isEmpty ? nil : id
            case .className(let name): return name.isEmpty ? nil : name
            case .attribute(let attribute):
                guard let value = attribute.value, !value.isEmpty, !attribute.caseInsensitive,
                    value.utf8.allSatisfy({ $0 < 0x80 })
                else { return nil }
                return value
            case .firstChild, .nthChild, .not: return nil
            }
        }
    }
}

/// One condition of a compound selector.
public enum SimpleSelector: Sendable, Hashable {
    case id(String)
    case className(String)
    case attribute(AttributeSelector)
    case firstChild
    /// `:nth-child(an+b)`: the element's 1-based index among its element siblings is `a*n+b` for some n ≥ 0.
    case nthChild(a: Int, b: Int)
    case not(CompoundSelector)
}

/// `[name]`, `[name=value]`, `[name^=value]` …
public struct AttributeSelector: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case prefix = "^="
        case suffix = "$="
        case contains = "*="
        case includesWord = "~="
        case dashPrefix = "|="
    }

    /// Lower-cased attribute name.
    public var name: String
    /// nil for `[name]` (presence only).
    public var match: Operator?
    public var value: String?
    /// The ` i` flag: compare values ASCII-case-insensitively.
    public var caseInsensitive: Bool

    public init(name: String, match: Operator? = nil, value: String? = nil, caseInsensitive: Bool = false) {
        self.name = name
        self.match = match
        self.value = value
        self.caseInsensitive = caseInsensitive
    }

    /// Whether an attribute value (already decoded) satisfies this condition.
    public func matches(value actual: String) -> Bool {
        guard let match, let expected = value else { return true }
        let actual = caseInsensitive ? actual.lowercased() : actual
        let wanted = caseInsensitive ? expected.lowercased() : expected
        switch match {
        case .equals: return actual == wanted
        case .prefix: return !wanted.isEmpty && actual.hasPrefix(wanted)
        case .suffix: return !wanted.isEmpty && actual.hasSuffix(wanted)
        case .contains: return !wanted.isEmpty && actual.contains(wanted)
        case .includesWord:
            guard !wanted.isEmpty, !wanted.contains(where: \.isHTMLWhitespace) else { return false }
            return actual.split(whereSeparator: \.isHTMLWhitespace).contains { $0 == wanted }
        case .dashPrefix: return actual == wanted || actual.hasPrefix(wanted + "-")
        }
    }
}

extension SimpleSelector {
    /// Whether `:nth-child(an+b)` admits the 1-based sibling `index`.
    public static func nthChild(a: Int, b: Int, admits index: Int) -> Bool {
        if a == 0 { return index == b }
        let difference = index - b
        return difference % a == 0 && difference / a >= 0
    }
}

extension Character {
    /// ASCII whitespace as HTML defines it (space, tab, LF, FF, CR).
    var isHTMLWhitespace: Bool {
        self == " " || self == "\t" || self == "\n" || self == "\u{0C}" || self == "\r" || self == "\r\n"
    }
}

/// Why a selector did not compile; `column` is 1-based, in characters.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
