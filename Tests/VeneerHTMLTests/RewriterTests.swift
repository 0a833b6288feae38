import Testing
import VeneerCore

@testable import VeneerHTML

@Suite struct RewriterTests {
    @Test func appliesAChangeAndKeepsEveryOtherByte() throws {
        let page =
            "<!DOCTYPE html>\n<html><body>\n<div id='a' class=x>old</div>\n<p>keep &amp; this</p>\n</body></html>\n"
        let result = try TestPages.rewrite(page, [["selector": "#a", "action": "inner", "html": "<b>new</b>"]])
        #expect(
            TestPages.text(result)
                == "<!DOCTYPE html>\n<html><body>\n<div id='a' class=x><b>new</b></div>\n<p>keep &amp; this</p>\n</body></html>\n"
        )
        #expect(result.applied == 1)
        #expect(result.changed)
        #expect(result.skipped.isEmpty)
    }

    @Test func everyMatchingElementIsChanged() throws {
        let result = try TestPages.rewrite(
            "<ul><li>a</li><li>b</li><li>c</li></ul>", [["selector": "li", "action": "add-class", "value": "i"]])
        #expect(TestPages.text(result) == "<ul><li class=\"i\">a</li><li class=\"i\">b</li><li class=\"i\">c</li></ul>")
        #expect(result.edits.count == 3)
    }

    @Test func siblingParagraphsFollowLibxml2sTree() throws {
        // `<p>one<p>two` are siblings: the second p is the second child of the div.
        let result = try TestPages.rewrite(
            "<div><p>one<p>two</div>", [["selector": "div > p:nth-child(2)", "action": "text", "text": "2"]])
        #expect(TestPages.text(result) == "<div><p>one<p>2</div>")
    }

    @Test func noMatchLeavesThePageAsItIs() throws {
        let result = try TestPages.rewrite("<p>x</p>", [["selector": "#missing", "action": "remove"]])
        #expect(!result.changed)
        #expect(result.output == Array("<p>x</p>".utf8))
        #expect(result.skipped == [SkippedChange(selector: "#missing", reason: "no element matches")])
    }

    @Test func addingAClassTwiceChangesNothing() throws {
        let result = try TestPages.rewrite(
            "<p class=\"a b\">x</p>", [["selector": "p", "action": "add-class", "value": "b"]])
        #expect(!result.changed)
        #expect(result.applied == 1)
    }

    @Test func classNamesAreSplitOnASCIIWhitespaceAsHTMLSplitsThem() throws {
        // Tabs and newlines separate names; a no-break space is part of one, as it is in a class attribute.
        let result = try TestPages.rewrite(
            "<p class=\"a\">x</p>",
            [["selector": "p", "action": "add-class", "value": " b\tc\n d\u{A0}e  a "]])
        #expect(TestPages.text(result) == "<p class=\"a b c d\u{A0}e\">x</p>")
    }

    @Test func thePrecheckSkipsTheParseWhenNoFragmentOccurs() throws {
        let rewriter = PageRewriter()
        var diagnostics = PageRewriter.Diagnostics()
        let page = Array("<html><body><div class=\"other\">x</div></body></html>".utf8)
        let result = rewriter.rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": ".banner h1", "action": "remove"])],
            diagnostics: &diagnostics)
        #expect(diagnostics.skippedByPrecheck)
        #expect(!result.changed)
        #expect(result.skipped.map(\.reason) == ["no element matches"])
    }

    @Test func theParserStopsOnceTheIdTargetsAreClosed() throws {
        let rows = (0..<500).map { "<div class=\"row\"><span>row \($0)</span></div>\n" }.joined()
        let page = Array("<html><body><div id=\"promo\">promo</div>\n\(rows)</body></html>".utf8)
        let rewriter = PageRewriter()
        var diagnostics = PageRewriter.Diagnostics()
        let result = rewriter.rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": "#promo", "action": "text", "text": "early"])],
            diagnostics: &diagnostics)
        #expect(diagnostics.stoppedEarly)
        #expect(TestPages.text(result).hasPrefix("<html><body><div id=\"promo\">early</div>\n<div class=\"row\">"))
        #expect(result.output.count == page.count)
    }

    @Test func aLaterOccurrenceOfTheIdKeepsTheParserGoing() throws {
        // The same id twice (invalid but common): both are changed, so the early stop must wait.
        let page = "<div id=\"x\">1</div>" + String(repeating: "<p>filler</p>", count: 50) + "<div id=\"x\">2</div>"
        let rewriter = PageRewriter()
        var diagnostics = PageRewriter.Diagnostics()
        let result = rewriter.rewrite(
            Array(page.utf8), contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": "#x", "action": "text", "text": "X"])],
            diagnostics: &diagnostics)
        #expect(result.edits.count == 2)
        #expect(!TestPages.text(result).contains(">1<") && !TestPages.text(result).contains(">2<"))
    }

    @Test func theCacheIsKeyedByBodyAndSelectors() throws {
        // No templates: these pages differ only in words, and would be answered from the first one's parse.
        let rewriter = PageRewriter(cacheCapacity: 2, templateCapacity: 0)
        let change = try TestPages.change(["selector": "h1", "action": "text", "text": "T"])
        var diagnostics = PageRewriter.Diagnostics()
        _ = rewriter.rewrite(
            Array("<h1>a</h1>".utf8), contentTypeCharset: nil, changes: [change], diagnostics: &diagnostics)
        #expect(!diagnostics.cacheHit)
        let second = rewriter.rewrite(
            Array("<h1>a</h1>".utf8), contentTypeCharset: nil, changes: [change], diagnostics: &diagnostics)
        #expect(diagnostics.cacheHit)
        #expect(TestPages.text(second) == "<h1>T</h1>")
        diagnostics = PageRewriter.Diagnostics()
        let other = rewriter.rewrite(
            Array("<h1>bb</h1>".utf8), contentTypeCharset: nil, changes: [change], diagnostics: &diagnostics)
        #expect(!diagnostics.cacheHit)
        #expect(TestPages.text(other) == "<h1>T</h1>")
        _ = rewriter.rewrite(Array("<h1>ccc</h1>".utf8), contentTypeCharset: nil, changes: [change])
        #expect(rewriter.cacheStatistics.entries == 2, "the cache is bounded")
    }

    @Test func windows1252OffsetsMapBackToThePage() {
        let page: [UInt8] = Array("<p>".utf8) + [0xE9, 0x80] + Array("</p><b>".utf8)
        let input = page.withUnsafeBufferPointer { ParseInput(page: $0, charset: .windows1252) }
        // é is 2 bytes in UTF-8 and € is 3: `</p>` starts at 5 in the page and at 8 in the copy.
        #expect(input.copy?.count == page.count + 3)
        #expect(input.pageOffset(8) == 5)
        #expect(input.pageOffset(3) == 3)
        #expect(input.pageOffset(12) == 9)
    }

    @Test func charsetDetection() {
        func detect(_ text: [UInt8], _ header: String? = nil) -> String {
            text.withUnsafeBufferPointer { bytes in
                switch PageCharset.detect(bytes, contentTypeCharset: header) {
                case .success(let charset): return "\(charset)"
                case .failure(let unsupported): return "unsupported \(unsupported.label)"
                }
            }
        }
        #expect(detect(Array("<meta charset=\"windows-1252\">".utf8)) == "windows1252")
        #expect(
            detect(Array("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">".utf8))
                == "windows1252")
        #expect(detect(Array("<meta charset=windows-1252>".utf8), "utf-8") == "utf8", "the header wins over meta")
        #expect(detect([0xEF, 0xBB, 0xBF] + Array("<meta charset=latin1>".utf8)) == "utf8", "a BOM wins over all")
        #expect(detect([0xFF, 0xFE, 0x3C, 0x00]) == "unsupported UTF-16")
        #expect(detect(Array("<p>caf".utf8) + [0xE9]) == "windows1252", "invalid UTF-8 without a declaration")
        #expect(detect(Array("<meta charset=koi8-r>".utf8)) == "unsupported koi8-r")
    }

    @Test func aPageOverTheLimitIsUnchanged() throws {
        let rewriter = PageRewriter(maximumPageBytes: 10)
        let page = Array("<p id=x>0123456789</p>".utf8)
        let result = rewriter.rewrite(
            page, contentTypeCharset: nil, changes: [try TestPages.change(["selector": "#x", "action": "remove"])])
        #expect(!result.changed)
        #expect(result.output == page)
        #expect(result.skipped.first?.reason.contains("larger than the rewrite limit") == true)
    }

    @Test func renderedEscapesTextAndValuesOnce() throws {
        let context = TemplateContext(user: ["name": "A&B <x>"])
        let text = try PageChange(json: ["selector": "p", "action": "text", "text": "Hi << attribute.user.name >>"])
            .rendered(context, templates: [:])
        #expect(text.text == "Hi A&B <x>")
        let html = try PageChange(json: [
            "selector": "p", "action": "inner", "html": "<b><< attribute.user.name >></b>",
        ]).rendered(context, templates: [:])
        #expect(html.html == "<b>A&amp;B &lt;x&gt;</b>")
        let page = try TestPages.rewrite("<p title=t>x</p>", [])
        #expect(!page.changed)
        let result = PageRewriter().rewrite(Array("<p>x</p>".utf8), contentTypeCharset: nil, changes: [text])
        #expect(TestPages.text(result) == "<p>Hi A&amp;B &lt;x&gt;</p>")
    }
}
