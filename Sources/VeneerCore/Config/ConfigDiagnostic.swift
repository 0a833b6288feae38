/// One problem found in proxy.conf (or in a file it names): where, which key, what is wrong and what is
/// allowed.
///
/// ```swift
/// let diagnostic = ConfigDiagnostic(file: "proxy.conf", line: 42, keyPath: "personalization[2].experience[0].display",
///                                   message: "unknown display mode \"sometimes\"; allowed: always, once, once-per-visit")
/// print(diagnostic)  // proxy.conf:42: personalization[2].experience[0].display: unknown display mode …
/// ```
public struct ConfigDiagnostic: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// `personalization[2].experience[0].display`: table keys joined by dots, array indexes from 0.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}

/// Every problem found while loading proxy.conf; loading never stops at the first.
///
/// ```swift
/// do { _ = try ConfigLoader.load(path: "proxy.conf") } catch { for problem in error.diagnostics { print(problem) } }
/// ```
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigDiagnostic]

    public init(diagnostics: [ConfigDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
