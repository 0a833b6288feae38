/// A template that does not compile: where (1-based line and column within the template's own
/// text, columns counted in characters) and why. For a payload, `keyPath` names the string that
/// failed (`title`, `changes[0].html`).
///
/// ```swift
/// do { _ = try Template(source: "Hi << user.name >>") } catch {
///     print(error)  // 1:7: unknown path root "user"; a path starts with attribute.user, …
/// }
/// ```
public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String
    /// Where in a payload the failing string sits; empty for a lone template.
    public var keyPath: String

    public init(line: Int, column: Int, message: String, keyPath: String = "") {
        self.line = line
        self.column = column
        self.message = message
        self.keyPath = keyPath
    }

    public var description: String {
        keyPath.isEmpty ? "\(line):\(column): \(message)" : "\(keyPath): \(line):\(column): \(message)"
    }
}
