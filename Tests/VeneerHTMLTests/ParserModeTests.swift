import Foundation
import Testing
import VeneerCore

@testable import VeneerHTML

/// The scanner drives libxml2's push parser and falls back to its pull parser (the reference tree)
/// where the push parser is known to differ. These tests hold the two to the same answers, and
/// check the byte-level shortcuts (pre-check, early stop) against what libxml2 decodes.
@Suite struct ParserModeTests {
    static let selectors = [
        "p", "li", "div", "td", "span", "a", "option", "#x", ".a", "div p", "ul > li", "table td", "p:nth-child(2)",
        "b, i",
    ].map { try! CSSSelector(parsing: $0) }

    /// Element boundaries and problem counts per selector, from one mode (nil: the rewriter's choice).
    static func scan(
        _ page: [UInt8], mode: ElementScanner.Mode?
    ) -> (elements: [[ElementBoundary]], problems: [Int], pull: Bool, messages: [[String]]) {
        page.withUnsafeBufferPointer { bytes in
            let program = SelectorProgram(selectors: selectors)
            let result = ElementScanner.scan(bytes, program: program, horizon: Int.max, mode: mode)
            return (result.elements, result.problems.map(\.count), result.parsedByPullParser, result.problems)
        }
    }

    static let fragments: [String] = [
        "<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>", "<div class=\"a b\">", "<div id=\"x\">", "</div>", "<span>",
        "</span>",
        "<table>", "<tr>", "<td>", "</td>", "</tr>", "</table>", "<select>", "<option>", "</option>", "</select>",
        "<script>var a = \"<p>\"; if (a < b) {}</script>", "<style>p > a { }</style>", "<!-- c <p> -->", "text ", " ",
        "\n",
        "&amp;", "&#60;", "&bogus;", "<", ">", "< p>", "</>", "<br>", "</br>", "<img src=\"a>b\">", "<br/>", "<div/>",
        "<P>",
        "<DIV ID=x>", "<a href=x>", "</a>", "<b>", "</b>", "<i>", "</i>", "<form>", "</form>",
        "<textarea><p>t</textarea>",
        "<pre>\nx</pre>", "<svg viewBox=\"0 0 1 1\"><path d=\"M0\"/></svg>", "<title>t</title>", "<dl><dt>x<dd>y</dl>",
        "<section class=a>", "</section>", "<p class=x", "<div a=\"b", "<noscript><p>n</noscript>", "<x-y>", "</x-y>",
        "é",
        "<div\tclass=\"a\"\n>", "<hr>", "<label>", "<h1 class=a>", "</h1>", "<p>one<p>two", "<ul><li>a<li>b</ul>",
        "<table><tr><td>a<td>b</table>", "<option>a<option>b", "<button>", "</button>", "<input value='x>'>",
        "</body>", "</html>", "<html>", "<body>", "<head>", "</head>", "<!DOCTYPE html>", "<![endif]-->", "<!-->",
    ]

    static func soup(_ random: inout TestPages.Random) -> [UInt8] {
        var page = ""
        for _ in 0..<(1 + random.below(160)) { page += fragments[random.below(fragments.count)] }
        return Array(page.utf8)
    }

    @Test func goldenPagesGiveTheSameAnswerAsThePullParser() throws {
        for name in GoldenTests.caseNames {
            let url = GoldenTests.directory.appendingPathComponent(name).appendingPathComponent("input.html")
            let page = try Array(Data(contentsOf: url))
            // The scanner reads clean UTF-8 (ParseInput repairs the rest before it).
            guard page.withUnsafeBufferPointer({ UTF8Validation.isValid($0) }) else { continue }
            let automatic = Self.scan(page, mode: nil)
            let pull = Self.scan(page, mode: .pull)
            #expect(automatic.elements == pull.elements, "\(name)")
            #expect(automatic.problems == pull.problems, "\(name)")
            #expect(!automatic.pull, "\(name) needed the pull parser")
        }
    }

    /// The first difference between the automatic answer and the pull parser's, readably; "same"
    /// when there is none but the one the pull parser gets wrong: its input position cannot tell
    /// "closed by this end tag" from "closed by the start tag after it" when the end tag is one
    /// libxml2 ignored (`</body>` after a misplaced `<body>`, perhaps followed by text ending in
    /// `>`), and it takes the end tag. The push parser has read the next tag's name by then, so
    /// its answer is the tree's.
    static func difference(_ page: [UInt8], _ automatic: [[ElementBoundary]], _ pull: [[ElementBoundary]]) -> String {
        for (index, (left, right)) in zip(automatic, pull).enumerated() where left != right {
            guard left.count == right.count else {
                return "\(selectors[index]): \(left.count) elements vs \(right.count)"
            }
            for (a, b) in zip(left, right) where a != b {
                if a.startTagStart == b.startTagStart, a.startTagEnd == b.startTagEnd, b.contentEnd == b.end,
                    a.contentEnd == a.end,
                    a.end > b.end, onlyIgnorableEndTags(page[b.end..<a.end])
                {
                    continue
                }
                let from = max(0, b.startTagStart - 10)
                let to = min(page.count, max(a.end, b.end) + 10)
                return "\(selectors[index]): \(a) vs \(b) in \(String(decoding: page[from..<to], as: UTF8.self))"
            }
        }
        return "same"
    }

    /// End tags and text without `<`, starting with `</html>`, `</body>` or `</head>`.
    static func onlyIgnorableEndTags(_ bytes: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        guard ["</html>", "</body>", "</head>"].contains(where: { text.hasPrefix($0) }) else { return false }
        // Every `<` left must open an end tag.
        return text.components(separatedBy: "<").dropFirst().allSatisfy { $0.hasPrefix("/") && $0.contains(">") }
    }

    @Test func randomPagesGiveTheSameAnswerAsThePullParser() {
        var random = TestPages.Random(state: 0x5EED_0000_7777_0001)
        var viaPush = 0
        for index in 0..<1_500 {
            let page = Self.soup(&random)
            let automatic = Self.scan(page, mode: nil)
            let pull = Self.scan(page, mode: .pull)
            let difference = Self.difference(page, automatic.elements, pull.elements)
            #expect(difference == "same", "page \(index)")
            let problemCounts =
                automatic.problems == pull.problems ? "same" : "\(automatic.messages) vs \(pull.messages)"
            #expect(problemCounts == "same", "page \(index): \(String(decoding: page, as: UTF8.self))")
            if !automatic.pull { viaPush += 1 }
        }
        // Both paths are exercised; most soups are closed well enough for the push parser.
        #expect(viaPush > 300, "\(viaPush) of 1500 random pages were answered by the push parser")
        #expect(viaPush < 1_500, "some random pages need the pull parser")
    }

    @Test func mutatedRealPagesGiveTheSameAnswerAsThePullParser() throws {
        let pages = try ["page-shop-home", "page-product", "page-blog-article", "page-spa-shell"].map { name in
            try Array(
                Data(
                    contentsOf: GoldenTests.directory.appendingPathComponent(name).appendingPathComponent("input.html"))
            )
        }
        var random = TestPages.Random(state: 0x5EED_0000_7777_0002)
        let alphabet = Array("<>/=\"' \n!-&;#abcdiv".utf8)
        for index in 0..<600 {
            var page = pages[index % pages.count]
            for _ in 0..<(1 + random.below(12)) {
                let position = random.below(page.count)
                switch random.below(3) {
                case 0: page[position] = alphabet[random.below(alphabet.count)]
                case 1: page.remove(at: position)
                default: page.insert(alphabet[random.below(alphabet.count)], at: position)
                }
            }
            guard page.withUnsafeBufferPointer({ UTF8Validation.isValid($0) }) else { continue }
            let automatic = Self.scan(page, mode: nil)
            let pull = Self.scan(page, mode: .pull)
            #expect(Self.difference(page, automatic.elements, pull.elements) == "same", "page \(index)")
            #expect(automatic.problems == pull.problems, "page \(index)")
        }
    }

    @Test func thePushParserGivesUpWhereTheTreesWouldDiffer() {
        let cases: [(String, Bool)] = [
            ("<html><body><div id=\"x\"><p>a</div></body></html>\n", false),
            ("<html><body><p>a</p></body></html>\n<!-- served in 3 ms -->\n", false),
            // Content after </html>: libxml2's pull parser opens a second html element for it.
            ("<html><body><p>a</p></body></html>\n<script>late()</script>\n", true),
            // A document that opens with an end tag: the push parser reads nothing.
            ("</form><p>a</p><div id=\"x\">b</div>", true),
            // A doctype after the first element, or after text.
            ("<p>a<!DOCTYPE html><div>b</div><p>c", true),
            ("&amp;<!DOCTYPE html></body><i><p>a</p>", true),
            ("<!-- first --> <!DOCTYPE html><html><body><p>a</p></body></html>", false),
            // Input that ends inside a tag: both parsers read it alike.
            ("<div id=\"x\"><p>a</p><span class=\"a", false),
        ]
        for (page, needsPull) in cases {
            let bytes = Array(page.utf8)
            let automatic = Self.scan(bytes, mode: nil)
            #expect(automatic.pull == needsPull, "\(page)")
            #expect(automatic.elements == Self.scan(bytes, mode: .pull).elements, "\(page)")
        }
    }

    @Test func aByteOrderMarkIsSkippedForThePushParser() throws {
        let page: [UInt8] =
            [0xEF, 0xBB, 0xBF] + Array("<!DOCTYPE html><html><body><p id=\"x\">a</p><p>b</p></body></html>".utf8)
        let automatic = Self.scan(page, mode: nil)
        #expect(!automatic.pull)
        #expect(automatic.elements == Self.scan(page, mode: .pull).elements)
        let result = try TestPages.rewrite(
            String(decoding: page, as: UTF8.self), [["selector": "#x", "action": "text", "text": "A"]])
        #expect(TestPages.text(result).hasSuffix("<p id=\"x\">A</p><p>b</p></body></html>"))
    }

    // MARK: - Byte-level shortcuts

    @Test func anIdSpelledWithCharacterReferencesStillMatches() throws {
        // libxml2 decodes attribute values: `h&#101;ro` is the id `hero`, which the bytes never spell.
        for id in ["h&#101;ro", "h&#x65;ro", "h&#101ro", "&#104;ero", "her&#x6F;"] {
            let page = "<html><body><div id=\"\(id)\">old</div><p>x</p></body></html>"
            let rewriter = PageRewriter(cacheCapacity: 0)
            var diagnostics = PageRewriter.Diagnostics()
            let result = rewriter.rewrite(
                Array(page.utf8), contentTypeCharset: nil,
                changes: [try TestPages.change(["selector": "#hero", "action": "text", "text": "new"])],
                diagnostics: &diagnostics)
            #expect(!diagnostics.skippedByPrecheck, "\(id)")
            #expect(TestPages.text(result) == "<html><body><div id=\"\(id)\">new</div><p>x</p></body></html>", "\(id)")
        }
    }

    @Test func aNamedReferenceInAClassStillMatches() throws {
        let page = "<div class=\"caf&eacute;\">a</div><div class=\"other\">b</div>"
        let result = try TestPages.rewrite(page, [["selector": ".café", "action": "text", "text": "c"]])
        #expect(TestPages.text(result) == "<div class=\"caf&eacute;\">c</div><div class=\"other\">b</div>")
    }

    @Test func anEncodedLaterOccurrenceKeepsTheParserGoing() throws {
        let filler = String(repeating: "<p>filler</p>", count: 200)
        let page = "<div id=\"x\">1</div>\(filler)<div id=\"&#120;\">2</div>"
        let result = try TestPages.rewrite(page, [["selector": "#x", "action": "text", "text": "X"]])
        #expect(result.edits.count == 2)
    }

    @Test func theParserStopsAfterTheLastElementWithTheClass() throws {
        let rows = (0..<500).map { "<div class=\"row\"><span>row \($0)</span></div>\n" }.joined()
        let page = Array("<html><body><a class=\"btn cta\" href=\"/x\">Go</a>\n\(rows)</body></html>".utf8)
        let rewriter = PageRewriter(cacheCapacity: 0)
        var diagnostics = PageRewriter.Diagnostics()
        let result = rewriter.rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": ".cta", "action": "add-class", "value": "green"])],
            diagnostics: &diagnostics)
        #expect(diagnostics.stoppedEarly)
        #expect(TestPages.text(result).hasPrefix("<html><body><a class=\"btn cta green\" href=\"/x\">Go</a>"))
    }

    /// A large page whose targets sit early is given to the push parser in two chunks (see
    /// `ElementScanner.firstChunkEnd`); what it finds must be what a parse of the whole page in
    /// one chunk finds, wherever it stops and whatever construct runs across the chunk's end.
    @Test func aLargePageParsedInTwoChunksGivesTheOneChunkAnswer() {
        let selectors = ["#target", ".special", "p.special", "div > span#inner"].map { try! CSSSelector(parsing: $0) }
        // Soup that cannot close the target div (so the match stays open until its `</div>`) and
        // has no late doctype (which sends a page to the pull parser).
        let soup = Self.fragments.filter { fragment in
            !["div", "body", "html", "table", "tr", "td", "form", "section", "doctype"].contains {
                fragment.lowercased().contains($0)
            }
        }
        let crossing = [
            "<p title='it's > here' class=b>", "<p title=\"a", "<!-- long comment ", "<script>if (a < b) {",
            "<style>", "<textarea>", "<span a=b'c d=\"e>f\">", "<p>", "<![CDATA[", "<p title='x' <i>",
        ]
        var random = TestPages.Random(state: 0x5EED_0000_7777_0003)
        var stopped = 0
        for index in 0..<60 {
            var page = "<html><body><div class=\"special\" id=\"target\"><p class=special>a</p><span id=inner>s</span>"
            // The first chunk ends near byte 16,500 (16 KB past the last "special"); the match closes around it.
            let closing = 14_500 + random.below(4_000)
            while page.utf8.count < closing { page += soup[random.below(soup.count)] }
            page += crossing[index % crossing.count] + "</div>"
            while page.utf8.count < 60_000 { page += soup[random.below(soup.count)] }
            let bytes = Array(page.utf8)
            bytes.withUnsafeBufferPointer { buffer in
                let program = SelectorProgram(selectors: selectors)
                var search = FragmentSearch(page: buffer)
                #expect(program.precheck(&search))
                let horizon = program.horizon(&search)
                #expect(ElementScanner.firstChunkEnd(buffer, horizon: horizon) != nil, "page \(index)")
                let early = ElementScanner.scan(buffer, program: program, horizon: horizon)
                let whole = ElementScanner.scan(
                    buffer, program: SelectorProgram(selectors: selectors), horizon: Int.max)
                // Stopped after the match closed, before the end of the page.
                if early.stoppedEarly, let end = early.elements[0].first?.end, end < buffer.count - 100 { stopped += 1 }
                #expect(early.elements == whole.elements, "page \(index)")
                #expect(early.problems == whole.problems, "page \(index)")
                #expect(early.failure == whole.failure, "page \(index)")
            }
        }
        // Half the pages close the match and stop (in either chunk); in the others the construct
        // before `</div>` swallows it, which exercises the parse going on into the second chunk.
        #expect(stopped > 10, "\(stopped) of 60 pages stopped before their end")
    }

    @Test func aSelectorWithoutTextInItsSubjectParsesToTheEnd() throws {
        let page = Array("<div class=\"cta\"><p>a</p></div>\(String(repeating: "<p>b</p>", count: 100))".utf8)
        let rewriter = PageRewriter(cacheCapacity: 0)
        var diagnostics = PageRewriter.Diagnostics()
        let result = rewriter.rewrite(
            page, contentTypeCharset: nil,
            changes: [try TestPages.change(["selector": ".cta p", "action": "text", "text": "c"])],
            diagnostics: &diagnostics)
        // The subject is `p`, which any later element may be: only ".cta" limits where one can
        // start, and it is the ancestor's, so the parse may not stop on it.
        #expect(!diagnostics.stoppedEarly)
        #expect(result.edits.count == 1)
    }

    @Test func byteSearchAgreesWithANaiveSearch() {
        var random = TestPages.Random(state: 99)
        let alphabet = Array("ab<!-&#".utf8)
        for _ in 0..<300 {
            let haystack = (0..<random.below(200)).map { _ in alphabet[random.below(alphabet.count)] }
            let needle = (0..<(1 + random.below(4))).map { _ in alphabet[random.below(alphabet.count)] }
            let floor = random.below(50)
            let starts = haystack.count >= needle.count ? Array(0...(haystack.count - needle.count)) : []
            let occurrences = starts.filter { Array(haystack[$0..<($0 + needle.count)]) == needle }
            haystack.withUnsafeBufferPointer { bytes in
                #expect(ByteSearch.first(needle, in: bytes, from: floor) == occurrences.first { $0 >= floor })
                #expect(ByteSearch.last(needle, in: bytes, notBefore: floor) == occurrences.last { $0 >= floor })
            }
        }
    }
}
