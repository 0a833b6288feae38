/// A compiled `<< path | filter: arg | filter >>` template.
///
/// Compile once (at config load), render per request. The source is split into literal runs and
/// substitutions whose paths are already resolved to a root and split into components, so
/// rendering is one reserved `String` and a series of appends.
///
/// ```swift
/// let greeting = try Template(source: "Hi << attribute.user.first_name | default: \"friend\" >>!")
/// greeting.render(TemplateContext(user: ["first_name": "Ada"]))  // "Hi Ada!"
/// greeting.render(TemplateContext())                              // "Hi friend!"
/// ```
///
/// The language:
/// - `<< path >>` substitutes a value; whitespace inside the delimiters is free, newlines too.
/// - Paths: `attribute.user.NAME…`, `attribute.account.NAME…` and `payload.NAME…` (nested objects,
///   a numeric component indexes an array), `visitor.NAME` (device, profile_id, session_id, new,
///   returning), `request.path`, `request.url`, `request.referrer`, `request.query.NAME`.
///   `payload`, `attribute.user` and `attribute.account` alone name the whole object.
/// - Filters run left to right: `default: "text"` (when the value is missing, null or an empty
///   string; `\"` and `\\` are the string's only escapes), `upper`, `lower`, `escape` (HTML: `& < > " '`),
///   `raw`, `url` (percent-encoding, RFC 3986 unreserved characters kept), `json` (JSON text;
///   a missing value gives `null`).
/// - In `.html` mode every substitution is HTML-escaped at the end of its chain unless the chain
///   names `raw` or already names `escape`. In `.payload` mode values go in as they are.
/// - A literal `<<` is written `\<<`. Backslashes right before `<<` pair up as in Handlebars:
///   `\\<< x >>` is one backslash then a substitution, `\\\<<` one backslash then a literal `<<`.
///   Backslashes anywhere else are ordinary text.
/// - In `.payload` mode `{{ path … }}` is a synonym of `<< path … >>` when its path starts with one
///   of the roots above (`{{ attribute.user.first_name }}`, as Intempt's console writes payloads);
///   any other `{{` is plain text, so client-side template syntax in a payload passes through.
///   In `.html` mode `{{` is never touched.
public struct Template: Sendable, Hashable {
    public enum Mode: Sendable, Hashable {
        /// HTML template files and change content: values are HTML-escaped unless `raw`.
        case html
        /// Payload strings: values are inserted as they are; `{{ attribute.x }}` is accepted too.
        case payload
    }

    public let source: String
    public let mode: Mode

    /// Literal runs and substitutions in source order; adjacent literals are merged.
    let segments: [Segment]
    /// UTF-8 bytes of all literal runs, to reserve the output once.
    let literalByteCount: Int

    /// Compiles `source`; a syntax error, an unknown path root or filter throws with its line and column.
    public init(source: String, mode: Mode = .html) throws(TemplateError) {
        self.source = source
        self.mode = mode
        self.segments = try TemplateParser.parse(source, mode: mode)
        var literalByteCount = 0
        for case .literal(let text) in segments { literalByteCount += text.utf8.count }
        self.literalByteCount = literalByteCount
    }

    /// True when rendering gives `source` back for every context (no substitution, no `\<<`
    /// escape), so a caller may use `source` directly.
    public var isConstant: Bool {
        switch segments.count {
        case 0: return true
        case 1: if case .literal(let text) = segments[0] { return text == source } else { return false }
        default: return false
        }
    }

    /// The number of `<< >>` (or payload `{{ }}`) substitutions.
    public var substitutionCount: Int {
        segments.count { if case .substitution = $0 { true } else { false } }
    }

    public static func == (left: Template, right: Template) -> Bool {
        left.source == right.source && left.mode == right.mode
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
        hasher.combine(mode)
    }
}

extension Template {
    enum Segment: Sendable {
        case literal(String)
        case substitution(Substitution)
    }

    /// One compiled `<< path | filters >>`.
    struct Substitution: Sendable {
        var path: TemplatePath
        var filters: [TemplateFilter]
        /// Whether the result is HTML-escaped after the chain (`.html` mode without `raw` or `escape`).
        var escapesResult: Bool
    }
}
