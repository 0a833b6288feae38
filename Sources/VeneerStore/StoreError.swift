/// A store failure with a stable code, e.g. `bad-url` or `database`.
///
/// ```swift
/// throw StoreError(code: "bad-url", message: "unknown store scheme in ftp://x")
/// ```
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "store \(code): \(message)" }
}
