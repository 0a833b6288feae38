import VeneerCore

@testable import VeneerHTML

/// Helpers shared by the rewriter tests.
enum TestPages {
    static func change(_ json: JSONValue) throws -> RenderedChange {
        try PageChange(json: json).rendered(TemplateContext(), templates: [:])
    }

    static func rewrite(
        _ page: String, _ changes: [JSONValue], rewriter: PageRewriter = PageRewriter()
    ) throws -> RewriteResult {
        let result = rewriter.rewrite(Array(page.utf8), contentTypeCharset: nil, changes: try changes.map(change))
        try FidelityCheck.verify(input: Array(page.utf8), result: result)
        return result
    }

    static func text(_ result: RewriteResult) -> String { String(decoding: result.output, as: UTF8.self) }

    /// A deterministic generator (xorshift) so failures reproduce.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }
}
