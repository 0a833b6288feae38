import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import VeneerCore

@testable import VeneerServer

/// Issue 5, point 4 with the one-connection latency goal: a page to rewrite that starts like one parsed before goes
/// out while it arrives, chunked, with the same bytes as the whole rewrite; clients that cannot take that, and pages
/// that turn out different or too large, still get the whole, right page. Real origin, proxy and client.
@Suite("Proxy streamed rewrites", .timeLimit(.minutes(3)))
struct ProxyStreamingTests {
    static let config = """
        [decision]
        budget = "5s"

        [[route]]
        path = "/shop"

        [[personalization]]
        name = "Prices"
        selector = "prices"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Everyone"
          audience = "everyone"
          payload = { changes = [ { selector = "#hero h1", action = "inner", html = "Welcome back" }, { selector = "p.price", action = "text", text = "79" } ] }
        """

    static let top = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>Shop</title></head>
        <body>
        <section id="hero"><h1>Good light</h1></section>
        <p class="price">89</p>

        """

    /// About `size` bytes of products after the top; `middle` halfway through.
    static func page(size: Int = 100_000, middle: String = "") -> String {
        let item = "<article class=\"product\"><h2>Oak chair</h2><p>Hand-made, oiled, built to last.</p></article>\n"
        let count = size / item.utf8.count
        return top + String(repeating: item, count: count / 2) + middle + String(repeating: item, count: count / 2)
            + "</body></html>\n"
    }

    static func rewritten(_ page: String) -> String {
        page.replacingOccurrences(of: "<h1>Good light</h1>", with: "<h1>Welcome back</h1>")
            .replacingOccurrences(of: "<p class=\"price\">89</p>", with: "<p class=\"price\">79</p>")
    }

    static func streamedCount(_ harness: ProxyHarness) -> Int {
        let line = harness.metricsText.split(separator: "\n").first {
            $0.hasPrefix("veneer_streamed_pages_total{result=\"complete\"}")
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test("a page seen before goes out chunked while it arrives, the same bytes, its events recorded once")
    func samePageStreams() async throws {
        let page = Self.page()
        try await ProxyHarness.with(configText: Self.config, pages: ["/shop/p": .init(body: page)]) { harness in
            let first = try await harness.get("/shop/p")
            #expect(first.body == Self.rewritten(page))
            #expect(first.headers.first(name: "content-length") == String(first.bytes.count))
            await harness.waitForSubmitted(3)
            let before = harness.reporter.statistics.submitted
            for round in 1...3 {
                let again = try await harness.get("/shop/p")
                #expect(again.status == 200)
                #expect(again.body == Self.rewritten(page), "round \(round)")
                #expect(again.headers.first(name: "transfer-encoding") == "chunked")
                #expect(again.headers.first(name: "content-length") == nil)
                #expect(again.headers.first(name: "cache-control") == "private")
                #expect(again.headers[canonicalForm: "vary"].map(String.init).contains("Accept-Encoding"))
                #expect(again.headers["set-cookie"].contains { $0.hasPrefix("vnr_pid=") })
            }
            #expect(Self.streamedCount(harness) == 3)
            // Each new visitor: a session start, a page view and an exposure, once each.
            await harness.waitForSubmitted(before + 9)
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.reporter.statistics.submitted == before + 9)
            #expect(harness.metricsText.contains("veneer_page_changes_total{result=\"applied\"} 8"))
        }
    }

    @Test("a page that goes on differently after its first block is completed from its whole rewrite")
    func changedPageCompletes() async throws {
        let page = Self.page()
        // A second price halfway down, which the change also matches.
        let changed = Self.page(middle: "<p class=\"price\">89</p>\n")
        try await ProxyHarness.with(configText: Self.config, pages: ["/shop/p": .init(body: page)]) { harness in
            _ = try await harness.get("/shop/p")
            harness.origin.setPage("/shop/p", .init(body: changed))
            let response = try await harness.get("/shop/p")
            #expect(response.status == 200)
            #expect(response.body == Self.rewritten(changed))
            #expect(response.body.components(separatedBy: "<p class=\"price\">79</p>").count == 3)
            #expect(response.headers.first(name: "transfer-encoding") == "chunked")
            // Parsed now: the next view of it streams whole.
            let next = try await harness.get("/shop/p")
            #expect(next.body == Self.rewritten(changed))
            #expect(Self.streamedCount(harness) == 2)
            #expect(!harness.metricsText.contains("veneer_streamed_pages_total{result=\"disagreed\"} 1"))
        }
    }

    @Test("a client that takes gzip gets the whole rewrite gzipped with its length; HTTP/1.0 gets a length")
    func clientsThatCannotTakeChunks() async throws {
        let page = Self.page()
        try await ProxyHarness.with(configText: Self.config, pages: ["/shop/p": .init(body: page)]) { harness in
            _ = try await harness.get("/shop/p")
            let zipped = try await harness.get("/shop/p", headers: [("Accept-Encoding", "gzip")])
            #expect(zipped.headers.first(name: "content-encoding") == "gzip")
            #expect(zipped.headers.first(name: "content-length") == String(zipped.bytes.count))
            let decoded = try ContentCoding.decode(zipped.bytes, encoding: "gzip", limit: 1 << 20)
            #expect(String(decoding: decoded, as: UTF8.self) == Self.rewritten(page))

            let raw = try await RawConnection.connect(port: harness.port)
            try await raw.send("GET /shop/p HTTP/1.0\r\nHost: shop\r\n\r\n")
            #expect(await raw.waitForClose(seconds: 10))
            let text = raw.text
            let expected = Self.rewritten(page)
            #expect(text.hasPrefix("HTTP/1.0 200"))
            #expect(text.lowercased().contains("content-length: \(expected.utf8.count)\r\n"))
            #expect(!text.lowercased().contains("transfer-encoding"))
            #expect(text.hasSuffix(expected))
            await raw.close()
            #expect(Self.streamedCount(harness) == 0)
        }
    }

    /// The origin's answer to `page`: its head and first `firstBytes` bytes at once, the rest `delay` later; chunked
    /// (no length told in advance) when asked.
    static func slowAnswer(
        _ page: String, firstBytes: Int, delay: Duration, chunked: Bool = false
    ) -> ScriptedOrigin.Reply {
        let bytes = Array(page.utf8)
        let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(bytes.count)"
        let head = Array("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\(framing)\r\n\r\n".utf8)
        func chunk(_ part: ArraySlice<UInt8>) -> [UInt8] {
            chunked ? Array("\(String(part.count, radix: 16))\r\n".utf8) + part + Array("\r\n".utf8) : Array(part)
        }
        let last = chunked ? Array("0\r\n\r\n".utf8) : []
        return ScriptedOrigin.Reply(
            parts: [
                .init(delay: .zero, bytes: head + chunk(bytes[..<firstBytes])),
                .init(delay: delay, bytes: chunk(bytes[firstBytes...]) + last),
            ], ending: .keepOpen)
    }

    @Test("the changed top of a page reaches the client while the origin still holds back the rest")
    func firstBytesBeforeTheOriginsLast() async throws {
        let page = Self.page()
        let origin = try await ScriptedOrigin.start { request in
            request.index == 0 && request.connection == 0
                ? Self.slowAnswer(page, firstBytes: page.utf8.count, delay: .zero)
                : Self.slowAnswer(page, firstBytes: 30_000, delay: .seconds(1))
        }
        try await ProxyHarness.with(configText: Self.config, originURL: origin.url) { harness in
            let first = try await harness.get("/shop/p")
            #expect(first.body == Self.rewritten(page))
            let raw = try await RawConnection.connect(port: harness.port)
            try await raw.send("GET /shop/p HTTP/1.1\r\nHost: shop\r\n\r\n")
            // Well before the origin's second write, a second away.
            #expect(await raw.waitFor("<h1>Welcome back</h1>", seconds: 0.6))
            #expect(!raw.text.contains("\r\n0\r\n\r\n"))
            #expect(await raw.waitFor("\r\n0\r\n\r\n", seconds: 10))
            let text = raw.text
            let body = try #require(text.range(of: "\r\n\r\n")).upperBound
            #expect(Self.dechunked(String(text[body...])) == Self.rewritten(page))
            await raw.close()
        }
        await origin.stop()
    }

    /// The payload of a chunked body.
    static func dechunked(_ text: String) -> String {
        var bytes = Array(text.utf8)[...]
        var out: [UInt8] = []
        while let lineEnd = bytes.firstRange(of: Array("\r\n".utf8)) {
            let size = Int(String(decoding: bytes[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
            bytes = bytes[lineEnd.upperBound...]
            if size == 0 { break }
            out += bytes.prefix(size)
            bytes = bytes.dropFirst(size + 2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a streamed page that grows past max_html_bytes: what was sent stays, the rest comes as the origin sends it")
    func streamedPageOverCap() async throws {
        let page = Self.page(size: 40_000)
        let longer = Self.page(size: 40_000, middle: String(repeating: "<p>More oak.</p>\n", count: 6000))
        let origin = try await ScriptedOrigin.start { request in
            request.index == 0 && request.connection == 0
                ? Self.slowAnswer(page, firstBytes: page.utf8.count, delay: .zero)
                : Self.slowAnswer(longer, firstBytes: 30_000, delay: .milliseconds(50), chunked: true)
        }
        try await ProxyHarness.with(configText: Self.config, originURL: origin.url) { harness in
            _ = try await harness.get("/shop/p")
            var config = harness.holder.current.config
            config.origin.maxHTMLBytes = 60_000
            harness.holder.replace(with: try ProxyConfiguration(config: config))
            let response = try await harness.get("/shop/p")
            #expect(response.status == 200)
            #expect(response.headers.first(name: "transfer-encoding") == "chunked")
            // The top went out changed before the page was too large; the rest is the origin's.
            #expect(response.body == Self.rewritten(longer))
            #expect(harness.metricsText.contains("veneer_fail_open_total{cause=\"page-too-large\"} 1"))
        }
        await origin.stop()
    }
}

extension ProxyStreamingTests {
    @Test("a streamed page larger than the client's write buffer completes when other requests make its loop busy")
    func streamedPageOnABusyLoop() async throws {
        let page = Self.page(size: 300_000)
        let origin = try await ScriptedOrigin.start { request in
            if request.path == "/shop/slow" {
                return .writes(
                    ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\n", "slow"],
                    delay: .seconds(3))
            }
            if request.index == 0 && request.connection == 0 {
                return Self.slowAnswer(page, firstBytes: page.utf8.count, delay: .zero)
            }
            // 30 KB at once; 130 KB once the loop is busy, more than the client's write buffer holds; the rest later.
            var reply = Self.slowAnswer(page, firstBytes: 30_000, delay: .milliseconds(700))
            let rest = reply.parts[1].bytes
            reply.parts[1].bytes = Array(rest[..<130_000])
            reply.parts.append(.init(delay: .milliseconds(300), bytes: Array(rest[130_000...])))
            return reply
        }
        try await ProxyHarness.with(configText: Self.config, originURL: origin.url) { harness in
            _ = try await harness.get("/shop/p")
            // The page starts streaming on an idle loop; its rest arrives once slow requests on several
            // connections keep every loop busy, when pieces wait for the answer's end unless the write buffer fills.
            async let streamed = harness.get("/shop/p")
            try await Task.sleep(for: .milliseconds(200))
            var slow: [RawConnection] = []
            for _ in 0..<6 {
                let connection = try await RawConnection.connect(port: harness.port)
                try await connection.send("GET /shop/slow HTTP/1.1\r\nHost: shop\r\n\r\n")
                slow.append(connection)
            }
            // A page whose reads stay held with its pieces unsent never completes: the origin's timeout cuts it.
            let response = try await streamed
            #expect(response.status == 200)
            #expect(response.headers.first(name: "transfer-encoding") == "chunked")
            #expect(response.body == Self.rewritten(page))
            for connection in slow {
                #expect(await connection.waitFor("slow", seconds: 10))
                await connection.close()
            }
        }
        await origin.stop()
    }
}
