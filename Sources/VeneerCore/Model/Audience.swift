public import Foundation

/// Who an experience or experiment is for. Compiled at load: regexes and dates are parsed once.
///
/// ```swift
/// let audience: Audience = .all([.everyone, .attribute(path: ["user", "plan"], .equals("pro"))])
/// ```
public indirect enum Audience: Sendable, Hashable {
    case everyone
    /// `user.*` or `account.*` attribute; `path` starts with `user` or `account`.
    case attribute(path: [String], Condition)
    case request(RequestField, Condition)
    case event(EventCondition)
    case segment(String)
    case all([Audience])
    case any([Audience])
    case not(Audience)
}

public enum RequestField: Sendable, Hashable {
    case path
    case url
    case query(String)
    case referrer
    case header(String)
    case cookie(String)
    case language
    case country

    public init?(parsing text: String) {
        switch text {
        case "path": self = .path
        case "url": self = .url
        case "referrer": self = .referrer
        case "language": self = .language
        case "country": self = .country
        default:
            if text.hasPrefix("query."), text.count > 6 {
                self = .query(String(text.dropFirst(6)))
            } else if text.hasPrefix("header."), text.count > 7 {
                self = .header(String(text.dropFirst(7)).lowercased())
            } else if text.hasPrefix("cookie."), text.count > 7 {
                self = .cookie(String(text.dropFirst(7)))
            } else {
                return nil
            }
        }
    }
}

/// One operator and its operand.
public enum Condition: Sendable, Hashable {
    case equals(JSONValue)
    case notEquals(JSONValue)
    case isIn([JSONValue])
    case notIn([JSONValue])
    case contains(String)
    case startsWith(String)
    case endsWith(String)
    case matches(CompiledPattern)
    case exists(Bool)
    case greaterThan(Double)
    case greaterThanOrEqual(Double)
    case lessThan(Double)
    case lessThanOrEqual(Double)
    case before(Date)
    case after(Date)

    public static let operatorNames = [
        "equals", "not_equals", "in", "not_in", "contains", "starts_with", "ends_with", "matches", "exists", "gt",
        "gte", "lt", "lte", "before", "after",
    ]
}

/// A regular expression compiled when the configuration loads.
public struct CompiledPattern: @unchecked Sendable, Hashable {
    // NSRegularExpression is immutable and documented thread-safe.
    public let source: String
    public let expression: NSRegularExpression
    /// A literal every match must contain, when the pattern's form guarantees one: text without it is refused
    /// without running the regex engine (which on Linux first copies the text into an NSString).
    let requiredLiteral: String?

    public init(_ source: String) throws {
        self.source = source
        self.expression = try NSRegularExpression(pattern: source)
        self.requiredLiteral = Self.requiredLiteral(of: source)
    }

    public func matches(_ text: String) -> Bool {
        if let requiredLiteral, !(text.asciiContains(requiredLiteral) ?? text.contains(requiredLiteral)) {
            return false
        }
        let range = NSRange(text.startIndex..<text.endIndex, in: text)
        return expression.firstMatch(in: text, range: range) != nil
    }

    /// The longest run of plain characters outside any group, class or escape, when the pattern has no
    /// alternation or inline flags (either could make the run optional or change how it matches).
    static func requiredLiteral(of pattern: String) -> String? {
        if pattern.contains("|") || pattern.contains("(?") { return nil }
        let special: Set<Character> = [".", "^", "$", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|", "\\"]
        var best = ""
        var run = ""
        var depth = 0
        var inClass = false
        var characters = Array(pattern)[...]
        func finish(quantified: Bool) {
            // A quantifier that allows zero (`?`, `*`, `{0,…}`) applies to the run's last character only.
            if quantified, !run.isEmpty { run.removeLast() }
            if depth == 0, run.count > best.count { best = run }
            run = ""
        }
        while let character = characters.popFirst() {
            if inClass {
                if character == "\\" { _ = characters.popFirst() } else if character == "]" { inClass = false }
                continue
            }
            if !special.contains(character) {
                run.append(character)
                continue
            }
            finish(quantified: character == "?" || character == "*" || character == "{")
            switch character {
            case "\\": _ = characters.popFirst()
            case "[": inClass = true
            case "{": while let skipped = characters.popFirst(), skipped != "}" {}
            case "(": depth += 1
            case ")": depth -= 1
            default: break
            }
        }
        finish(quantified: false)
        return best.isEmpty ? nil : best
    }

    public static func == (lhs: CompiledPattern, rhs: CompiledPattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

/// "Performed event N times, at least / at most, within a window, with property conditions."
public struct EventCondition: Sendable, Hashable {
    public var event: String
    public var atLeast: Int?
    public var atMost: Int?
    /// Window length in seconds; nil means ever.
    public var withinSeconds: Int64?
    public var filter: EventFilter?

    public init(
        event: String, atLeast: Int? = nil, atMost: Int? = nil, withinSeconds: Int64? = nil, filter: EventFilter? = nil
    ) {
        self.event = event
        self.atLeast = atLeast
        self.atMost = atMost
        self.withinSeconds = withinSeconds
        self.filter = filter
    }

    /// The summary of the profile view that this condition reads.
    public var key: EventKey { EventKey(event: event, filter: filter) }
}

/// A property condition on an event's data (`where = { property = "amount", gt = 50 }`).
public struct EventFilter: Sendable, Hashable {
    public var property: String
    public var condition: Condition

    public init(property: String, condition: Condition) {
        self.property = property
        self.condition = condition
    }
}

/// Names one per-event summary: an event name and an optional property filter.
public struct EventKey: Sendable, Hashable {
    public var event: String
    public var filter: EventFilter?

    public init(event: String, filter: EventFilter? = nil) {
        self.event = event
        self.filter = filter
    }

    /// Hashes the names only: keys are looked up on every decision, and hashing a whole condition costs more
    /// than the rare collision between two filters on the same property.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(event)
        hasher.combine(filter?.property)
    }
}

/// A named audience that other audiences refer to with `{ segment = "name" }`.
public struct Segment: Sendable, Hashable {
    public var name: String
    public var audience: Audience

    public init(name: String, audience: Audience) {
        self.name = name
        self.audience = audience
    }
}

extension CompiledPattern {
    /// The prefilter literal, for tests.
    public var requiredLiteralForTesting: String? { requiredLiteral }
}
