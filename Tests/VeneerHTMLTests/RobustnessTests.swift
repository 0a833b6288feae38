import Foundation
import Testing
import VeneerCore

@testable import VeneerHTML

/// Bad input never crashes, hangs or changes the page at a wrong place: the answer is the page,
/// unchanged or changed only at verified boundaries, with reasons.
@Suite struct RobustnessTests {
    static let shop: [UInt8] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Golden/page-shop-home/input.html")
        return (try? Array(Data(contentsOf: url)))
            ?? Array("<html><body><section id=\"hero\"><h1>x</h1></section></body></html>".utf8)
    }()

    static func changes() throws -> [RenderedChange] {
        try [
            TestPages.change(["selector": "#hero", "action": "replace", "html": "<section id=\"hero\">H</section>"]),
            TestPages.change(["selector": ".product-card h3", "action": "text", "text": "T"]),
            TestPages.change(["selector": ".cta", "action": "add-class", "value": "green"]),
            TestPages.change(["selector": "li", "action": "append", "html": "!"]),
        ]
    }

    @Test func truncatedAtEveryPosition() throws {
        let changes = try Self.changes()
        let rewriter = PageRewriter(cacheCapacity: 0)
        for length in stride(from: 0, through: Self.shop.count, by: 7) {
            let page = Array(Self.shop[..<length])
            let result = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
            try FidelityCheck.verify(input: page, result: result)
        }
    }

    @Test func randomlyMutatedPages() throws {
        let changes = try Self.changes()
        let rewriter = PageRewriter(cacheCapacity: 0)
        var random = TestPages.Random(state: 0x5EED_1234_ABCD_0001)
        let alphabet = Array("<>/=\"' \n!-&;#abcdiv".utf8) + [0, 0xC3, 0xFF]
        var changedCount = 0
        for _ in 0..<400 {
            var page = Self.shop
            for _ in 0..<(1 + random.below(12)) {
                let position = random.below(page.count)
                switch random.below(3) {
                case 0: page[position] = alphabet[random.below(alphabet.count)]
                case 1: page.remove(at: position)
                default: page.insert(alphabet[random.below(alphabet.count)], at: position)
                }
            }
            let result = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
            try FidelityCheck.verify(input: page, result: result)
            if result.changed { changedCount += 1 }
        }
        #expect(changedCount > 200, "most mutated pages are still changed (\(changedCount) of 400)")
    }

    @Test func binaryInput() throws {
        var random = TestPages.Random(state: 42)
        let page = (0..<1_000_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let result = PageRewriter().rewrite(page, contentTypeCharset: nil, changes: try Self.changes())
        try FidelityCheck.verify(input: page, result: result)
        #expect(result.skipped.count >= 1)
    }

    @Test func tenThousandDeepNesting() throws {
        let depth = 10_000
        let page = Array(
            (String(repeating: "<div>", count: depth) + "<p id=\"deep\">x</p>"
                + String(repeating: "</div>", count: depth)).utf8)
        let changes = [
            try TestPages.change(["selector": "#deep", "action": "text", "text": "y"]),
            try TestPages.change(["selector": "div div div div div p", "action": "add-class", "value": "d"]),
        ]
        let result = PageRewriter().rewrite(page, contentTypeCharset: nil, changes: changes)
        try FidelityCheck.verify(input: page, result: result)
        // libxml2 may refuse the depth; either way the page is intact and every change accounted for.
        #expect(result.applied + Set(result.skipped.map(\.selector)).count >= 2)
        print("10,000-deep nesting: applied \(result.applied), skipped: \(result.skipped.map(\.description))")
    }

    @Test func unclosedTagsTenThousandDeep() throws {
        let page = Array((String(repeating: "<b><i>", count: 10_000) + "<span id=\"t\">x</span>").utf8)
        let result = PageRewriter().rewrite(
            page, contentTypeCharset: nil, changes: [try TestPages.change(["selector": "#t", "action": "remove"])])
        try FidelityCheck.verify(input: page, result: result)
        print("10,000 unclosed <b><i>: applied \(result.applied), skipped: \(result.skipped.map(\.description))")
    }

    @Test func fiftyMegabytePage() throws {
        let row = Array(
            "<div class=\"row\"><span data-i=\"1\">A row of a very long listing &amp; more</span></div>\n".utf8)
        var page: [UInt8] = Array("<html><body>\n".utf8)
        page.reserveCapacity(50 << 20 + 1000)
        while page.count < 50 << 20 { page += row }
        page += Array("<footer id=\"end\">end</footer></body></html>\n".utf8)
        let result = PageRewriter().rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": "#end", "action": "text", "text": "END"])])
        #expect(result.changed)
        #expect(result.output.count == page.count)
        #expect(
            Array(result.output.suffix(30)) == Array("<footer id=\"end\">END</footer></body></html>\n".utf8.suffix(30)))
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("50 MB page: peak RSS of the test process \(usage.ru_maxrss / 1024) MB")
    }

    @Test func fiftyThousandMatchesWithOverlappingChanges() throws {
        let items = String(repeating: "<li class=\"item\">x</li>", count: 50_000)
        let page = Array("<ul id=\"list\">\(items)</ul>".utf8)
        let changes = [
            try TestPages.change(["selector": "li", "action": "add-class", "value": "seen"]),
            try TestPages.change(["selector": ".item", "action": "text", "text": "y"]),
            try TestPages.change(["selector": "#list", "action": "replace", "html": "<ul></ul>"]),
        ]
        let result = PageRewriter().rewrite(page, contentTypeCharset: nil, changes: changes)
        try FidelityCheck.verify(input: page, result: result)
        #expect(
            result.edits.count == 100_000,
            "class and text edits of every item apply; the list replacement overlaps them")
        #expect(result.skipped.count == 1)
    }

    @Test func tenThousandMatchedElementsClosedByOneEndTag() throws {
        let page = Array(("<div id=\"outer\">" + String(repeating: "<b>x", count: 10_000) + "</div>").utf8)
        let result = PageRewriter().rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": "b", "action": "add-class", "value": "k"])])
        try FidelityCheck.verify(input: page, result: result)
        print(
            "10,000 unclosed matched <b>: applied \(result.applied), edits \(result.edits.count), skipped \(result.skipped.count)"
        )
    }

    @Test func emptyAndTinyPages() throws {
        for text in ["", "<", "<>", "</", "<!--", "<div", "<div id=x", "<div id=x>", "\u{0}", "<p id=x/>"] {
            let page = Array(text.utf8)
            let result = PageRewriter().rewrite(
                page, contentTypeCharset: nil, changes: [try TestPages.change(["selector": "#x", "action": "remove"])])
            try FidelityCheck.verify(input: page, result: result)
        }
    }
}
