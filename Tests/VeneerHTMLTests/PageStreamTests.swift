import Testing
import VeneerCore

@testable import VeneerHTML

/// `PageStream`: a page rewritten while it arrives, from the prediction of a page parsed before, comes out byte for
/// byte as the whole rewrite of the page does, however its bytes are cut; and nothing goes out that a page turning
/// out different would have to take back.
@Suite struct PageStreamTests {
    static let head = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>Shop</title></head>
        <body>
        <header id="hero"><h1>Good light</h1></header>
        <a class="cta" href="/buy">Buy</a>

        """

    /// A page of about `size` bytes: the hero and the call to action near the top, products after, `tail` last.
    static func page(size: Int = 40_000, middle: String = "", tail: String = "", head: String = head) -> [UInt8] {
        var text = head
        var index = 0
        while text.utf8.count < size / 2 {
            text += "<article class=\"product\"><h2>Item \(index)</h2><p>Oak, oiled.</p></article>\n"
            index += 1
        }
        text += middle
        while text.utf8.count < size {
            text += "<article class=\"product\"><h2>Item \(index)</h2><p>Oak, oiled.</p></article>\n"
            index += 1
        }
        return Array((text + tail + "</body></html>\n").utf8)
    }

    static let changes: [JSONValue] = [
        ["selector": "#hero", "action": "replace", "html": "<header id=\"hero\"><h1>Welcome back</h1></header>"],
        ["selector": ".cta", "action": "add-class", "value": "cta--green"],
        ["selector": ".sale", "action": "text", "text": "30% off"],
    ]

    static func rendered(_ json: [JSONValue] = changes) throws -> [RenderedChange] {
        try json.map(TestPages.change)
    }

    /// The bytes `pieces` stand for: each piece's input range with its edits spliced in.
    static func output(_ pieces: [PageStream.Piece], page: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for piece in pieces {
            var cursor = piece.range.lowerBound
            for edit in piece.edits {
                bytes += page[cursor..<edit.range.lowerBound]
                bytes += edit.replacement
                cursor = edit.range.upperBound
            }
            bytes += page[cursor..<piece.range.upperBound]
        }
        return bytes
    }

    /// Feeds `page` to `stream` in reads of the given sizes (the last read repeats), then completes it.
    static func feed(
        _ stream: inout PageStream, page: [UInt8], reads: [Int], limitFirst: Int? = nil
    ) -> [PageStream.Piece] {
        var pieces: [PageStream.Piece] = []
        var received = 0
        var step = 0
        var limit = limitFirst ?? .max
        while received < page.count {
            received = min(page.count, received + reads[min(step, reads.count - 1)])
            step += 1
            page.withUnsafeBufferPointer { all in
                let prefix = UnsafeBufferPointer(rebasing: all[..<received])
                while let piece = stream.advance(prefix, complete: false, limit: limit) {
                    pieces.append(piece)
                    limit = .max
                }
            }
        }
        page.withUnsafeBufferPointer { all in
            if let piece = stream.advance(all, complete: true) { pieces.append(piece) }
        }
        return pieces
    }

    static func prediction(
        rewriter: PageRewriter, for page: [UInt8], changes: [RenderedChange], charset: String? = nil
    ) -> PagePrediction? {
        page.withUnsafeBufferPointer { rewriter.predict($0, contentTypeCharset: charset, changes: changes) }
    }

    @Test("a page seen before streams out as its whole rewrite, however its reads are cut")
    func samePageAnyReads() throws {
        let page = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        #expect(whole.changed)
        var random = TestPages.Random(state: 0x5EED)
        let cuts: [[Int]] =
            [[page.count], [4096], [1], [5000, 100, 30_000], [16_384]]
            + (0..<20).map { _ in (0..<8).map { _ in 1 + random.below(9000) } }
        for reads in cuts {
            let prediction = try #require(Self.prediction(rewriter: rewriter, for: page, changes: changes))
            var stream = PageStream(prediction)
            let pieces = Self.feed(&stream, page: page, reads: reads)
            #expect(stream.isFinished, "reads \(reads)")
            #expect(!stream.diverged)
            #expect(Self.output(pieces, page: page) == whole.output, "reads \(reads)")
            #expect(stream.result?.edits == whole.edits)
            #expect(stream.result?.applied == whole.applied)
            #expect(stream.result?.skipped == whole.skipped)
        }
    }

    @Test("the first piece stops at the limit asked for, and the rest follows")
    func firstPieceLimit() throws {
        let page = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: page, changes: changes)))
        let pieces = Self.feed(&stream, page: page, reads: [page.count], limitFirst: 8192)
        #expect(pieces.first?.range == 0..<8192)
        #expect(pieces.first?.edits.count == 2)
        #expect(pieces.count == 2)
        #expect(Self.output(pieces, page: page) == whole.output)
    }

    @Test("a limit inside an edit's range ends the piece after that range, and nothing is sent twice")
    func limitInsideAnEdit() throws {
        let page = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        let hero = try #require(whole.edits.first).range
        var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: page, changes: changes)))
        let pieces = Self.feed(&stream, page: page, reads: [page.count], limitFirst: hero.lowerBound + 5)
        #expect(pieces.first?.range == 0..<hero.upperBound)
        #expect(Self.output(pieces, page: page) == whole.output)
    }

    @Test("before the edits are known, only the bytes before the first matched element go out")
    func waitsForTheEditHorizon() throws {
        // The only match is a long element in the middle: its edit is known once the bytes up to its end are.
        let sale = "<div class=\"sale\">" + String(repeating: "<p>Ten percent off oak.</p>\n", count: 400) + "</div>\n"
        let page = Self.page(middle: sale)
        let changes = try Self.rendered([["selector": ".sale", "action": "text", "text": "30% off"]])
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        let saleStart = try #require(page.firstRange(of: Array("<div class=\"sale\">".utf8))).lowerBound
        var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: page, changes: changes)))
        var pieces: [PageStream.Piece] = []
        page.withUnsafeBufferPointer { all in
            // Blocks past the sale element's start tag, not up to its end.
            if let piece = stream.advance(UnsafeBufferPointer(rebasing: all[..<(saleStart + 8192)]), complete: false) {
                pieces.append(piece)
            }
        }
        #expect(pieces.count == 1)
        #expect(pieces[0].range == 0..<saleStart)
        #expect(pieces[0].edits.isEmpty)
        pieces += Self.feed(&stream, page: page, reads: [page.count])
        #expect(stream.isFinished)
        #expect(Self.output(pieces, page: page) == whole.output)
    }

    @Test("a page that goes on differently stops streaming; its whole rewrite completes what was sent")
    func divergedPageCompletesFromItsRewrite() throws {
        let seen = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        _ = rewriter.rewrite(seen, contentTypeCharset: nil, changes: changes)
        // Same first half; then a sale paragraph the first page did not have, which one change matches.
        let now = Self.page(middle: "<p class=\"sale\">none</p>\n")
        #expect(Array(now[..<10_000]) == Array(seen[..<10_000]))
        // Rewritten by another rewriter: this one would take `now` as the page to predict.
        let whole = PageRewriter().rewrite(now, contentTypeCharset: nil, changes: changes)
        #expect(whole.edits.count == 3)
        for reads in [[now.count], [4096], [7000, 3]] {
            var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: now, changes: changes)))
            let pieces = Self.feed(&stream, page: now, reads: reads)
            #expect(stream.diverged)
            #expect(!stream.isFinished)
            #expect(stream.sent > 0)
            #expect(stream.sent < now.count)
            let (rest, agrees) = stream.remainder(of: whole.edits)
            #expect(agrees)
            #expect(rest.count == 1)
            let tail = PageStream.Piece(range: stream.sent..<now.count, edits: Array(rest))
            #expect(Self.output(pieces + [tail], page: now) == whole.output, "reads \(reads)")
        }
    }

    @Test("a rewrite that disagrees with what was sent is told apart; the rest still comes from it")
    func disagreeingRewrite() throws {
        let page = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: page, changes: changes)))
        _ = Self.feed(&stream, page: page, reads: [8192])
        #expect(stream.editsSent.count == 2)
        #expect(stream.remainder(of: []).agrees == false)
        #expect(stream.remainder(of: Array(whole.edits.dropFirst())).agrees == false)
        var moved = whole.edits
        moved[0].replacement = Array("<header>else</header>".utf8)
        #expect(stream.remainder(of: moved).agrees == false)
        // An edit across the bytes sent: not sendable, and a disagreement.
        let across = SplicedEdit(range: (stream.sent - 2)..<(stream.sent + 2), replacement: [], changeIndex: 0)
        let withAcross = stream.remainder(of: whole.edits + [across])
        #expect(withAcross.agrees == false)
        #expect(withAcross.edits.isEmpty)
        let after = SplicedEdit(range: stream.sent..<(stream.sent + 2), replacement: [], changeIndex: 0)
        let withAfter = stream.remainder(of: whole.edits + [after])
        #expect(withAfter.agrees)
        #expect(withAfter.edits == [after])
        #expect(stream.remainder(of: whole.edits) == ([], true))
    }

    @Test("a page longer or shorter than the one seen diverges; an insertion at its end waits for the end")
    func lengthDecides() throws {
        // Ends with `</html>`: an insertion after the html element is one at the page's end.
        let seen = Array(Self.page().dropLast())
        let changes = try Self.rendered([["selector": "html", "action": "after", "html": "<!-- end -->"]])
        let rewriter = PageRewriter()
        let whole = rewriter.rewrite(seen, contentTypeCharset: nil, changes: changes)
        #expect(whole.edits.last?.range.lowerBound == seen.count)
        for other in [seen + Array("<!-- more -->".utf8), Array(seen.dropLast(3))] {
            var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: other, changes: changes)))
            let pieces = Self.feed(&stream, page: other, reads: [4096])
            #expect(stream.diverged)
            #expect(pieces.allSatisfy { $0.edits.isEmpty })
        }
        var stream = PageStream(try #require(Self.prediction(rewriter: rewriter, for: seen, changes: changes)))
        seen.withUnsafeBufferPointer { all in
            let piece = stream.advance(all, complete: false)
            #expect(piece?.range == 0..<seen.count)
            #expect(piece?.edits.isEmpty == true)
            #expect(!stream.isFinished || stream.editsSent.isEmpty)
            let last = stream.advance(all, complete: true)
            #expect(last?.range == seen.count..<seen.count)
            #expect(last?.edits == whole.edits)
        }
        #expect(stream.isFinished)
    }

    @Test("no prediction: a first block not seen, other selectors, or an encoding only the whole page tells")
    func noPrediction() throws {
        let page = Self.page()
        let changes = try Self.rendered()
        let rewriter = PageRewriter()
        #expect(Self.prediction(rewriter: rewriter, for: page, changes: changes) == nil)
        _ = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
        #expect(Self.prediction(rewriter: rewriter, for: page, changes: changes) != nil)
        #expect(Self.prediction(rewriter: rewriter, for: Array(page[..<4095]), changes: changes) == nil)
        var other = page
        other[100] = UInt8(ascii: "X")
        #expect(Self.prediction(rewriter: rewriter, for: other, changes: changes) == nil)
        #expect(Self.prediction(rewriter: rewriter, for: page, changes: Array(changes.prefix(2))) == nil)
        #expect(Self.prediction(rewriter: rewriter, for: page, changes: changes, charset: "utf-8") == nil)
        // No charset in the Content-Type or a meta tag: the page is UTF-8 only if all of it is valid UTF-8.
        let undeclared = Self.page(head: "<!DOCTYPE html>\n<html><body>\n<header id=\"hero\">x</header>\n")
        _ = rewriter.rewrite(undeclared, contentTypeCharset: nil, changes: changes)
        #expect(Self.prediction(rewriter: rewriter, for: undeclared, changes: changes) == nil)
        let declaring = PageRewriter()
        _ = declaring.rewrite(undeclared, contentTypeCharset: "utf-8", changes: changes)
        #expect(Self.prediction(rewriter: declaring, for: undeclared, changes: changes, charset: "utf-8") != nil)
    }
}
