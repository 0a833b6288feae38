import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import VeneerCore
import VeneerStore

@testable import VeneerServer

/// Issue 5, points 2, 4, 5 and 7: visitors, rewriting, redirects and page views, end to end with the real
/// engine, store, reporter and rewriter.
@Suite("Proxy personalization", .timeLimit(.minutes(3)))
struct ProxyPersonalizationTests {
    static let page = """
        <!DOCTYPE html>
        <html><head><title>Shop</title></head>
        <body>
        <!-- keep me: a comment long enough that the page is worth compressing, since pages under a few
             hundred bytes are sent as they are; the proxy gzips only what gains from it. -->
        <section id="hero"><h1>Original hero</h1></section>
        <a class="cta" href="/buy">Buy</a>
        <script>var x = "{{ not a template }}";</script>
        </body></html>
        """

    /// A generous decision budget: these tests are about what is decided, not how fast (the benchmark is).
    static let config = """
        [decision]
        budget = "5s"

        [visitor]
        user_id_header = "X-User-Id"

        [[route]]
        path = "/shop"

        [[personalization]]
        name = "Hero"
        selector = "hero"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Everyone"
          audience = "everyone"
          payload = { headline = "Hi << attribute.user.first_name | default: \\"friend\\" >>", changes = [ { selector = "#hero h1", action = "inner", html = "<< payload.headline >>" } ] }

        [[personalization]]
        name = "Go to sale"
        selector = "go-sale"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Campaign"
          audience = { request = "query.campaign", equals = "winter" }
          payload = { redirect = { url = "/shop/sale", status = 307, keep_query = true } }

        [[personalization]]
        name = "Returning"
        selector = "returning"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Second view"
          audience = { event = "View Page", at_least = 1, within = "1d" }
          payload = { changes = [ { selector = ".cta", action = "add-class", value = "cta--back" } ] }
        """

    static func pages() -> [String: TestOriginServer.Page] {
        [
            "/shop/plain": .init(
                body: page,
                headers: [
                    ("ETag", "\"v1\""), ("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT"),
                    ("Cache-Control", "public, max-age=600"),
                ]),
            "/shop/gzip": .init(body: page, encoding: "gzip"),
            "/shop/deflate": .init(body: page, encoding: "deflate"),
            "/shop/br": .init(body: page, encoding: "br"),
            "/shop/sale": .init(body: page),
            "/shop/data.json": .init(body: "{\"hero\":1}", contentType: "application/json"),
            "/other": .init(body: page),
            "/shop/large": .init(body: largePage),
        ]
    }

    /// Larger than an origin connection's largest read: it reaches the proxy in several reads.
    static let largePage = page.replacingOccurrences(
        of: "</body>", with: String(repeating: "<p>Oak, oiled, built to last.</p>\n", count: 12_000) + "</body>")

    @Test("an HTML page is rewritten: bytes outside the change unchanged, length right, validators dropped, private")
    func rewritesPlainPage() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let response = try await harness.get(
                "/shop/plain",
                headers: [("If-None-Match", "\"v1\""), ("If-Modified-Since", "Wed, 01 Jan 2025 00:00:00 GMT")])
            #expect(response.status == 200)
            let expected = Self.page.replacingOccurrences(of: "<h1>Original hero</h1>", with: "<h1>Hi friend</h1>")
            #expect(response.body == expected)
            #expect(response.headers.first(name: "content-length") == String(expected.utf8.count))
            #expect(response.headers.first(name: "etag") == nil)
            #expect(response.headers.first(name: "last-modified") == nil)
            #expect(response.headers.first(name: "cache-control") == "private")
            #expect(response.headers[canonicalForm: "vary"].map(String.init).contains("Cookie"))
            // The origin was not asked conditionally: a 304 could not be rewritten.
            let originHead = try #require(harness.origin.requests.last { $0.uri == "/shop/plain" })
            #expect(originHead.headers.first(name: "if-none-match") == nil)
            #expect(originHead.headers.first(name: "if-modified-since") == nil)
        }
    }

    @Test("a page larger than one read of the origin is gathered from its reads and rewritten, parsed and cached")
    func rewritesPageOfManyReads() async throws {
        #expect(Self.largePage.utf8.count > OriginConnection.largestRead)
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let expected = Self.largePage.replacingOccurrences(
                of: "<h1>Original hero</h1>", with: "<h1>Hi friend</h1>")
            let first = try await harness.get("/shop/large")
            #expect(first.status == 200)
            #expect(first.body == expected)
            #expect(first.headers.first(name: "content-length") == String(expected.utf8.count))
            // The second view starts like the page parsed for the first: it goes out while it arrives, chunked.
            let second = try await harness.get("/shop/large")
            #expect(second.status == 200)
            #expect(second.body == expected)
            #expect(second.headers.first(name: "transfer-encoding") == "chunked")
            #expect(second.headers.first(name: "content-length") == nil)
        }
    }

    @Test("a page whose parse is cached is answered from slices of the origin's bytes, with the same result")
    func cachedParseSplicesTheOriginBytes() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let first = try await harness.get("/shop/plain")
            let cookie = first.headers["set-cookie"].map { String($0.prefix { $0 != ";" }) }.joined(separator: "; ")
            let hero = Self.page.replacingOccurrences(of: "<h1>Original hero</h1>", with: "<h1>Hi friend</h1>")
            let both = hero.replacingOccurrences(of: "class=\"cta\"", with: "class=\"cta cta--back\"")
            // The second and third views: two edits each (the hero and the returning visitor's class), from the
            // parse the first view left in the cache.
            for _ in 0..<2 {
                let again = try await harness.get("/shop/plain", headers: [("Cookie", cookie)])
                #expect(again.status == 200)
                #expect(again.body == both)
                #expect(again.headers.first(name: "content-length") == String(both.utf8.count))
            }
            #expect(first.body == hero)
        }
    }

    @Test(
        "gzip, deflate and br pages are decoded, changed, and sent gzip to a client that accepts it",
        arguments: ["gzip", "deflate", "br"])
    func decodesAndReencodes(encoding: String) async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let expected = Self.page.replacingOccurrences(of: "<h1>Original hero</h1>", with: "<h1>Hi friend</h1>")
            let zipped = try await harness.get("/shop/\(encoding)", headers: [("Accept-Encoding", "gzip, br")])
            #expect(zipped.status == 200)
            #expect(zipped.headers.first(name: "content-encoding") == "gzip")
            #expect(zipped.headers.first(name: "content-length") == String(zipped.bytes.count))
            let decoded = try ContentCoding.decode(zipped.bytes, encoding: "gzip", limit: 1 << 20)
            #expect(String(decoding: decoded, as: UTF8.self) == expected)
            let plain = try await harness.get("/shop/\(encoding)", headers: [("Accept-Encoding", "identity")])
            #expect(plain.headers.first(name: "content-encoding") == nil)
            #expect(plain.body == expected)
        }
    }

    @Test("visitor cookies: profile for two years, rolling session, HttpOnly, SameSite=Lax, Path=/")
    func visitorCookies() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let first = try await harness.get("/shop/plain")
            let cookies = first.headers["set-cookie"]
            let profile = try #require(cookies.first { $0.hasPrefix("vnr_pid=") })
            let session = try #require(cookies.first { $0.hasPrefix("vnr_sid=") })
            #expect(profile.contains("Max-Age=63072000; Path=/; HttpOnly; SameSite=Lax"))
            #expect(session.contains("Max-Age=1800; Path=/; HttpOnly; SameSite=Lax"))
            let profileId = String(profile.dropFirst(8).prefix { $0 != ";" })
            let sessionId = String(session.dropFirst(8).prefix { $0 != ";" })
            #expect(profileId.count == 32)
            let second = try await harness.get(
                "/shop/plain", headers: [("Cookie", "vnr_pid=\(profileId); vnr_sid=\(sessionId)")])
            let secondCookies = second.headers["set-cookie"]
            #expect(!secondCookies.contains { $0.hasPrefix("vnr_pid=") }, "a known profile is not re-set")
            #expect(secondCookies.contains { $0.hasPrefix("vnr_sid=\(sessionId);") }, "the session rolls")
        }
    }

    @Test("page views: the second page view of a visitor meets the returning-visitor audience")
    func autotrackFeedsAudiences() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let first = try await harness.get("/shop/plain")
            #expect(!first.body.contains("cta--back"))
            let cookie = first.headers["set-cookie"].map { $0.prefix { $0 != ";" } }.joined(separator: "; ")
            await harness.waitForSubmitted(3)  // session start, page view, exposure
            let second = try await harness.get("/shop/plain", headers: [("Cookie", cookie)])
            #expect(second.body.contains("class=\"cta cta--back\""))
        }
    }

    @Test("bots get the original page, no cookies and no exposure")
    func botsGetTheOriginal() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let before = harness.reporter.statistics.submitted
            let response = try await harness.get(
                "/shop/plain",
                headers: [("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")])
            #expect(response.body == Self.page)
            #expect(response.headers["set-cookie"].isEmpty)
            #expect(harness.reporter.statistics.submitted == before)
        }
    }

    @Test("a user id from the configured header is used for the person")
    func userIdHeader() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            _ = try await harness.store.append([
                TrackEvent(
                    eventId: "identify-ada", name: TrackEvent.identifyName, timestamp: 1_700_000_000_000,
                    userId: "ada-1", userAttributes: ["first_name": "Ada"])
            ])
            let response = try await harness.get("/shop/plain", headers: [("X-User-Id", "ada-1")])
            #expect(response.body.contains("<h1>Hi Ada</h1>"))
        }
    }

    @Test("a user id from the configured cookie: every Cookie line is read, and a comma stays in its value")
    func userIdCookie() async throws {
        let config = Self.config.replacingOccurrences(
            of: "user_id_header = \"X-User-Id\"", with: "user_id_cookie = \"uid\"")
        try await ProxyHarness.with(configText: config, pages: Self.pages()) { harness in
            _ = try await harness.store.append([
                TrackEvent(
                    eventId: "identify-ada", name: TrackEvent.identifyName, timestamp: 1_700_000_000_000,
                    userId: "ada,1", userAttributes: ["first_name": "Ada"])
            ])
            // Pairs are split by ";" alone (RFC 6265 §5.4): split at commas, the id would be "ada".
            let response = try await harness.get(
                "/shop/plain", headers: [("Cookie", "theme=dark, compact"), ("Cookie", "uid=ada,1")])
            #expect(response.body.contains("<h1>Hi Ada</h1>"), "got: \(response.body)")
        }
    }

    @Test("redirect payload: the configured status without an origin fetch, the query kept, exposure first")
    func redirects() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let before = harness.reporter.statistics.submitted
            let response = try await harness.get("/shop/plain?campaign=winter&x=1")
            #expect(response.status == 307)
            #expect(response.headers.first(name: "location") == "/shop/sale?campaign=winter&x=1")
            #expect(!harness.origin.requests.contains { $0.uri.hasPrefix("/shop/plain") })
            // Submitted synchronously before the answer was written.
            #expect(harness.reporter.statistics.submitted > before)
            // The target itself is never redirected again.
            let target = try await harness.get("/shop/sale?campaign=winter&x=1")
            #expect(target.status == 200)
            #expect(target.body.contains("Hi friend"))
        }
    }

    @Test("unrouted paths, non-HTML answers and non-GET methods pass through untouched")
    func passThroughOnPersonalizedSite() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            let other = try await harness.get("/other")
            #expect(other.body == Self.page)
            #expect(other.headers["set-cookie"].isEmpty)
            #expect(other.headers.first(name: "cache-control") == nil)
            let json = try await harness.get("/shop/data.json")
            #expect(json.body == "{\"hero\":1}")
            let post = try await harness.get("/echo", method: .POST, body: "abc")
            #expect(post.body.contains("body-bytes: 3"))
        }
    }

    @Test("a page over max_html_bytes is served unchanged and counted")
    func pageOverCap() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            var config = harness.holder.current.config
            config.origin.maxHTMLBytes = 100
            harness.holder.replace(with: try ProxyConfiguration(config: config))
            let response = try await harness.get("/shop/plain")
            #expect(response.body == Self.page)
            #expect(harness.metricsText.contains("veneer_fail_open_total{cause=\"page-too-large\"} 1"))
        }
    }

    @Test("a store that is down: the original page, counted as profile-error")
    func storeDown() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages()) { harness in
            try await harness.store.close()
            let cookie = "vnr_pid=returning0000000000000000000001; vnr_sid=session00000000000000000000001"
            let response = try await harness.get("/shop/plain", headers: [("Cookie", cookie)])
            #expect(response.status == 200)
            #expect(response.body == Self.page)
            #expect(harness.metricsText.contains("veneer_fail_open_total{cause=\"profile-error\"} 1"))
        }
    }

    @Test("debug_header adds Veneer-Decision with each optimization's outcome")
    func debugHeader() async throws {
        try await ProxyHarness.with(configText: Self.config, pages: Self.pages(), debugHeader: true) { harness in
            let response = try await harness.get("/shop/plain")
            let header = try #require(response.headers.first(name: "veneer-decision"))
            #expect(header.contains("hero=served:Everyone"))
            #expect(header.contains("go-sale=skipped:not-targeted"))
        }
    }
}
