/// One change (or one element of it) that was not applied.
public struct SkippedChange: Sendable, Hashable, CustomStringConvertible {
    /// The change's selector as written.
    public var selector: String
    public var reason: String

    public init(selector: String, reason: String) {
        self.selector = selector
        self.reason = reason
    }

    public var description: String { "\(selector): \(reason)" }
}
