/// A payload's `redirect`: `{ url, status, keep_query }`.
///
/// ```swift
/// let rule = RedirectRule(url: try Template(source: "/sale", mode: .payload))
/// ```
public struct RedirectRule: Sendable, Hashable {
    /// The target: relative, or on a host listed in `redirects.allow_hosts` (checked at load).
    public var url: Template
    /// 301, 302, 303, 307 or 308.
    public var status: Int
    public var keepQuery: Bool

    public init(url: Template, status: Int = 302, keepQuery: Bool = false) {
        self.url = url
        self.status = status
        self.keepQuery = keepQuery
    }
}
