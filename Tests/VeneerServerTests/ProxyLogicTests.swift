import NIOHTTP1
import Testing
import VeneerCore

@testable import VeneerServer

/// The pure decisions of the proxy: redirect targets, routes, visitors, encodings.
@Suite("Proxy logic", .timeLimit(.minutes(3)))
struct ProxyLogicTests {
    @Test("redirect targets: relative or allowed hosts only, query kept on request, never to itself")
    func redirectPlans() {
        func plan(
            _ target: String, keep: Bool = false, path: String = "/", query: String? = nil, allow: [String] = []
        )
            -> RedirectPlanner.Plan
        {
            RedirectPlanner.plan(
                target: target, status: 302, keepQuery: keep, requestPath: path, requestQuery: query,
                requestHost: "shop.example", allowHosts: allow)
        }
        #expect(plan("/sale") == .redirect(location: "/sale", status: 302))
        #expect(plan("/sale", keep: true, query: "a=1") == .redirect(location: "/sale?a=1", status: 302))
        #expect(plan("/sale?x=2", keep: true, query: "a=1") == .redirect(location: "/sale?x=2&a=1", status: 302))
        #expect(plan("/sale#top", keep: true, query: "a=1") == .redirect(location: "/sale?a=1#top", status: 302))
        #expect(plan("/sale", path: "/sale") == .alreadyThere)
        #expect(plan("/sale?x=1", path: "/sale") == .alreadyThere)
        #expect(plan("https://shop.example/sale", path: "/sale", allow: ["shop.example"]) == .alreadyThere)
        #expect(
            plan("https://partner.example/x", allow: ["partner.example"])
                == .redirect(location: "https://partner.example/x", status: 302))
        if case .rejected = plan("https://evil.example/x", allow: ["partner.example"]) {
        } else {
            Issue.record("evil host accepted")
        }
        if case .rejected = plan("//evil.example/x") {} else { Issue.record("protocol-relative accepted") }
        if case .rejected = plan("/\\evil.example") {} else { Issue.record("backslash trick accepted") }
        if case .rejected = plan("javascript:alert(1)") {} else { Issue.record("javascript: accepted") }
        if case .rejected = plan("/x\r\nSet-Cookie: a=b") {} else { Issue.record("header injection accepted") }
        if case .rejected = plan("") {} else { Issue.record("empty target accepted") }
        #expect(
            RedirectPlanner.plan(
                target: "/x", status: 200, keepQuery: false, requestPath: "/", requestQuery: nil, requestHost: nil,
                allowHosts: []) == .redirect(location: "/x", status: 302))
    }

    @Test("routes: prefixes on segment boundaries, * within a segment, ** across")
    func routes() {
        let table = RouteTable(routes: [
            Route(match: .pattern("/products/*/reviews")), Route(match: .pattern("/blog/**")),
            Route(match: .prefix("/shop")),
        ])
        #expect(table.match(path: "/products/7/reviews")?.label == "/products/*/reviews")
        #expect(table.match(path: "/products/7/8/reviews") == nil)
        #expect(table.match(path: "/blog/2026/11/post")?.label == "/blog/**")
        #expect(table.match(path: "/shop")?.label == "/shop")
        #expect(table.match(path: "/shop/cart")?.label == "/shop")
        #expect(table.match(path: "/shopping") == nil)
        #expect(RouteTable(routes: [Route(match: .prefix("/"))]).match(path: "/anything/at/all") != nil)
        let slashEnded = RouteTable(routes: [Route(match: .prefix("/shop/"))])
        #expect(slashEnded.match(path: "/shop") == nil)
        #expect(slashEnded.match(path: "/shop/x")?.label == "/shop/")
        #expect(table.match(path: "/products/7/reviews/more") == nil)
        #expect(table.match(path: "/blog") == nil)
    }

    @Test("routes compare a path's bytes as the request line carries them, not its characters")
    func routeBytes() {
        let table = RouteTable(routes: [Route(match: .prefix("/caf\u{E9}")), Route(match: .pattern("/x/*"))])
        #expect(table.match(path: "/caf\u{E9}/menu")?.label == "/caf\u{E9}")
        // The same text with a combining accent is other bytes: String's hasPrefix would have called it equal.
        #expect(table.match(path: "/cafe\u{301}/menu") == nil)
        // Bytes that are not UTF-8 (the pass-through path matches before any String is made).
        let invalid: [UInt8] = Array("/x/".utf8) + [0xFF, 0xFE]
        #expect(invalid.withUnsafeBytes { table.match(pathBytes: $0) }?.label == "/x/*")
        let deeper: [UInt8] = Array("/x/".utf8) + [0xFF, UInt8(ascii: "/"), 0x41]
        #expect(deeper.withUnsafeBytes { table.match(pathBytes: $0) } == nil)
    }

    @Test("devices and bots from User-Agent; curl is a person")
    func userAgents() {
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
        let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36"
        let desktop =
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
        #expect(UserAgentClassifier.device(for: iphone) == .mobile)
        #expect(UserAgentClassifier.device(for: android) == .mobile)
        #expect(UserAgentClassifier.device(for: desktop) == .desktop)
        #expect(UserAgentClassifier.device(for: nil) == .desktop)
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 (compatible; YandexBot/3.0)", "Twitterbot/1.0", "Mozilla/5.0 HeadlessChrome/120.0",
        ] {
            #expect(UserAgentClassifier.isBot(bot), "\(bot)")
        }
        #expect(!UserAgentClassifier.isBot("curl/8.5.0"))
        #expect(!UserAgentClassifier.isBot(desktop))
        #expect(!UserAgentClassifier.isBot(iphone))
    }

    @Test("comma-separated header tokens: read across lines, trimmed, in any case; Vary gains a token once")
    func headerTokens() {
        let headers = HTTPHeaders([
            ("Connection", " Keep-Alive ,X-Secret,, close"), ("connection", "\tTE, x-other\t"),
            ("Expect", "100-Continue "),
            ("Transfer-Encoding", "gzip ,  chunked"), ("X-Connection", "x-not-this"),
        ])
        // keep-alive and TE are hop-by-hop already, close is not a field name: what is left is nominated.
        #expect(headers.connectionNominatedNames() == ["x-secret", "x-other"])
        #expect(headers.containsToken("100-continue", in: "expect"))
        #expect(headers.containsToken("chunked", in: "transfer-encoding"))
        #expect(!headers.containsToken("chunk", in: "transfer-encoding"))
        #expect(!headers.containsToken("x-not-this", in: "connection"))
        #expect(HTTPHeaders([("Connection", " , ,")]).connectionNominatedNames().isEmpty)

        var vary = HTTPHeaders([("Vary", "Accept-Encoding , COOKIE")])
        vary.addToken("Cookie", to: "Vary")
        #expect(vary[canonicalForm: "vary"] == ["Accept-Encoding", "COOKIE"])
        vary.addToken("User-Agent", to: "Vary")
        #expect(vary[canonicalForm: "vary"] == ["Accept-Encoding", "COOKIE", "User-Agent"])
        var star = HTTPHeaders([("vary", " * ")])
        star.addToken("Cookie", to: "Vary")
        #expect(star["vary"] == [" * "])
        var none = HTTPHeaders()
        none.addToken("Cookie", to: "Vary")
        #expect(none["vary"] == ["Cookie"])
    }

    @Test("cookies: first value wins, quotes removed; invalid ids are replaced")
    func cookies() {
        #expect(CookieHeader.parse(["a=1; b=\"two\"", "a=3; c="]) == ["a": "1", "b": "two", "c": ""])
        // Spaces and tabs around names and values, pairs without "=", empty names, stray and lone quotes,
        // "=" inside a value, non-ASCII bytes, empty headers and trailing separators.
        #expect(
            CookieHeader.parse([" \t x = 1 \t;;novalue; =orphan;y=\"\";z=\";w=a=b; é=ü;", "", ";", "v=\"q\"r"]) == [
                "x": "1", "y": "", "z": "\"", "w": "a=b", "é": "ü", "v": "\"q\"r",
            ])
        #expect(CookieHeader.parse(["=", "k=\"v\"", "k2=\" spaced \""]) == ["k": "v", "k2": " spaced "])
        var settings = VisitorSettings()
        settings.userIdCookie = "uid"
        let visitor = Visitor.recognize(
            cookies: ["vnr_pid": "<script>", "vnr_sid": "abcdef0123456789", "uid": "u-7"], userAgent: nil,
            header: { _ in nil }, settings: settings)
        #expect(visitor.isNewProfile)
        #expect(visitor.profileId.count == 32)
        #expect(!visitor.isNewSession)
        #expect(visitor.sessionId == "abcdef0123456789")
        #expect(visitor.userId == "u-7")
    }

    @Test("query parameters and paths: escapes and + decoded, malformed escapes kept as sent, the first of a name wins")
    func queryAndPathDecoding() {
        let query = ProxyHandler.parseQuery("utm_source=news+letter&x=%41%42&bad=%zz&plain=v&x=later&empty=&=nameless")
        #expect(
            query == ["utm_source": "news letter", "x": "AB", "bad": "%zz", "plain": "v", "empty": ""])
        #expect(ProxyHandler.parseQuery(nil).isEmpty && ProxyHandler.parseQuery("").isEmpty)
        #expect(ProxyHandler.percentDecoded("/caf%C3%A9/a+b") == "/café/a+b")
        #expect(ProxyHandler.percentDecoded("/plain/path") == "/plain/path")
        #expect(ProxyHandler.percentDecoded("/100%") == "/100%")
    }

    @Test("the LRU: a read moves a key to the front, the least recently used goes first, updates keep the order")
    func leastRecentlyUsed() {
        var cache = LeastRecentlyUsed<String, Int>()
        for (index, key) in ["a", "b", "c", "d"].enumerated() { cache.set(key, index, capacity: 4) }
        #expect(cache["a"] == 0)  // from oldest to newest
        #expect(cache["c"] == 2)  // from the middle
        #expect(cache["c"] == 2)  // already the newest
        #expect(cache.update("b") { $0 += 10 })
        #expect(!cache.update("missing") { $0 += 10 })
        // Now from oldest: b, d, a, c. Two more push out b and d.
        cache.set("e", 4, capacity: 4)
        cache.set("f", 5, capacity: 4)
        #expect(cache.count == 4)
        #expect(cache["b"] == nil && cache["d"] == nil)
        #expect(cache["a"] == 0 && cache["c"] == 2 && cache["e"] == 4 && cache["f"] == 5)
        // Reading every key in turn leaves the order a, c, e, f: g pushes out a, then h pushes out c.
        cache.set("g", 6, capacity: 4)
        #expect(cache["a"] == nil)
        cache.remove("e")
        cache.set("h", 7, capacity: 3)
        #expect(cache["c"] == nil && cache["f"] == 5 && cache["g"] == 6 && cache["h"] == 7 && cache.count == 3)
        var single = LeastRecentlyUsed<String, Int>()
        single.set("x", 1, capacity: 1)
        #expect(single["x"] == 1)
        single.set("y", 2, capacity: 1)
        #expect(single["x"] == nil && single["y"] == 2 && single.count == 1)
    }

    @Test("the LRU against a list kept in order of use: 20,000 random reads, sets, updates and removes agree")
    func leastRecentlyUsedAgreesWithAnOrderedList() {
        var random = SplitMix64(seed: 7)
        var cache = LeastRecentlyUsed<Int, Int>()
        var model: [(key: Int, value: Int)] = []  // from least to most recently used
        for step in 0..<20_000 {
            let key = Int.random(in: 0..<40, using: &random)
            let capacity = Int.random(in: 1...30, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let found = model.firstIndex { $0.key == key }
                let expected = found.map { model[$0].value }
                if let found { model.append(model.remove(at: found)) }
                #expect(cache[key] == expected, "read \(key) at step \(step)")
            case 1:
                model.removeAll { $0.key == key }
                model.append((key, step))
                if model.count > capacity { model.removeFirst(model.count - capacity) }
                cache.set(key, step, capacity: capacity)
            case 2:
                let found = model.firstIndex { $0.key == key }
                if let found { model[found].value = -step }
                #expect(cache.update(key) { $0 = -step } == (found != nil), "update \(key) at step \(step)")
            default:
                model.removeAll { $0.key == key }
                cache.remove(key)
            }
            #expect(cache.count == model.count, "count at step \(step)")
        }
        // The order holds too: reading from the least recently used keeps each value where the list has it.
        for (key, value) in model { #expect(cache[key] == value) }
    }

    @Test("event ids: 32 hex digits, ordered by time, distinct within a millisecond")
    func eventIdentifiers() {
        let early = Visitor.makeEventIdentifier(at: 1_764_000_000_000)
        let later = Visitor.makeEventIdentifier(at: 1_764_000_000_001)
        #expect(early.count == 32 && later.count == 32)
        #expect(early.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(early < later)
        #expect(early.hasPrefix(String(1_764_000_000_000, radix: 16).leftPadded(to: 12)))
        let sameMillisecond = Set((0..<1000).map { _ in Visitor.makeEventIdentifier(at: 1_764_000_000_000) })
        #expect(sameMillisecond.count == 1000)
        #expect(Visitor.validIdentifier(early) == early)
        let visitors = (0..<1000).map { _ in Visitor.makeIdentifier() }
        #expect(Set(visitors).count == 1000)
        #expect(visitors.allSatisfy { $0.count == 32 && $0.allSatisfy { $0.isHexDigit && !$0.isUppercase } })
    }

    @Test(
        "assets by the last segment's extension, any case; pages, folders and extensionless paths are not",
        arguments: [
            ("/style.css", true), ("/a/b/APP.JS", true), ("/img/logo.v2.PNG", true), ("/.woff2", true),
            ("/", false), ("/products/chair.html", false), ("/index.HTM", false), ("/dir.css/", false),
            ("/dir.css/page", false), ("/about", false), ("/file.unknown", false), ("", false),
        ])
    func assets(path: String, isAsset: Bool) {
        #expect(StaticFileContentTypes.isAsset(path: path) == isAsset)
    }

    @Test("Accept-Encoding: gzip unless refused with q=0")
    func acceptEncoding() {
        #expect(ContentCoding.acceptsGzip(["gzip, deflate, br"]))
        #expect(ContentCoding.acceptsGzip(["br;q=1.0, gzip;q=0.8"]))
        #expect(ContentCoding.acceptsGzip(["*"]))
        #expect(!ContentCoding.acceptsGzip(["gzip;q=0"]))
        #expect(!ContentCoding.acceptsGzip(["identity"]))
        #expect(!ContentCoding.acceptsGzip([]))
    }

    @Test("decoding refuses a zip bomb past the cap and a truncated body")
    func decodingLimits() throws {
        let big = [UInt8](repeating: 0x41, count: 5_000_000)
        let compressed = try ContentCoding.gzip(big)
        #expect(compressed.count < 50_000)
        #expect(throws: ContentCoding.CodingError.self) {
            try ContentCoding.decode(compressed, encoding: "gzip", limit: 1_000_000)
        }
        #expect(try ContentCoding.decode(compressed, encoding: "gzip", limit: 8_000_000).count == 5_000_000)
        #expect(throws: ContentCoding.CodingError.self) {
            try ContentCoding.decode(Array(compressed.prefix(100)), encoding: "gzip", limit: 8_000_000)
        }
        #expect(throws: ContentCoding.CodingError.self) {
            try ContentCoding.decode([1, 2, 3], encoding: "br", limit: 100)
        }
    }

    @Test("hop-by-hop fields leave a response in place: the fixed list and the names Connection gives, in any case")
    func hopByHopRemoval() {
        var headers = HTTPHeaders([
            ("Content-Type", "text/html"), ("Connection", "keep-alive, X-Secret"), ("Set-Cookie", "a=1"),
            ("Keep-Alive", "timeout=5"), ("x-secret", "1"), ("Set-Cookie", "b=2"), ("TE", "trailers"),
            ("X-SECRET", "2"), ("Transfer-Encoding", "chunked"), ("X-Secretive", "kept"), ("connection", "Upgrade"),
            ("Upgrade", "websocket"), ("Proxy-Authenticate", "Basic"), ("Trailer", "X"), ("Vary", "Accept"),
        ])
        headers.removeHopByHopFields()
        #expect(
            headers.map { "\($0.name): \($0.value)" } == [
                "Content-Type: text/html", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-Secretive: kept", "Vary: Accept",
            ])
        var plain = HTTPHeaders([("Content-Type", "text/html"), ("Content-Length", "5"), ("ETag", "\"x\"")])
        let before = plain
        plain.removeHopByHopFields()
        #expect(plain == before)
    }

    @Test("idle origin connections are kept per origin, taken newest first, and each list survives being emptied")
    func idleConnectionList() {
        final class Connection {}
        let shop = OriginConnectionKey(host: "shop.example", port: 80, isTLS: false)
        let shopTLS = OriginConnectionKey(host: "shop.example", port: 443, isTLS: true)
        let (first, second, third) = (Connection(), Connection(), Connection())
        var idle = IdleConnectionList<Connection>()
        #expect(idle.popLast(for: shop) == nil && idle.count == 0)
        idle.append(first, for: shop)
        idle.append(second, for: shop)
        idle.append(third, for: shopTLS)
        #expect(idle.count == 3 && idle.count(for: shop) == 2 && idle.count(for: shopTLS) == 1)
        #expect(idle.popLast(for: shop) === second)
        idle.remove(first, for: shop)
        #expect(idle.count(for: shop) == 0 && idle.popLast(for: shop) == nil)
        idle.append(second, for: shop)
        #expect(idle.all.count == 2 && idle.all.contains { $0 === second } && idle.all.contains { $0 === third })
        #expect(idle.popLast(for: OriginConnectionKey(host: "shop.example", port: 8080, isTLS: false)) == nil)
        #expect(idle.popLast(for: shopTLS) === third && idle.popLast(for: shopTLS) == nil)
        idle.removeAll()
        #expect(idle.count == 0 && idle.popLast(for: shop) == nil)
    }

    @Test("absolute-form request targets become paths")
    func originForm() {
        #expect(ProxyExchange.originForm("/a?b") == "/a?b")
        #expect(ProxyExchange.originForm("http://host/a/b?c=1") == "/a/b?c=1")
        #expect(ProxyExchange.originForm("http://host") == "/")
        #expect(ProxyExchange.originForm("http://host?x=1") == "/?x=1")
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }

    @Test("Content-Length is read only when given once, in any case; a charset only from a parameter")
    func responseFieldReaders() {
        #expect(HTTPHeaders([("content-LENGTH", " 42 ")]).contentLength == 42)
        #expect(HTTPHeaders([("Content-Length", "42"), ("Content-Length", "42")]).contentLength == nil)
        #expect(HTTPHeaders([("Content-Length", "-1")]).contentLength == nil)
        #expect(HTTPHeaders([("Content-Lengths", "4")]).contentLength == nil)
        #expect(HTTPHeaders([("X", "1")]).contentLength == nil)
        #expect(HTTPHeaders([("Content-Type", "text/html")]).contentTypeCharset == nil)
        #expect(HTTPHeaders([("Content-Type", "text/html; charset=\"utf-8\"")]).contentTypeCharset == "utf-8")
        #expect(HTTPHeaders([("content-type", "text/html;CHARSET=iso-8859-1")]).contentTypeCharset == "iso-8859-1")
        #expect(HTTPHeaders([("Content-Type", "text/html; q=1")]).contentTypeCharset == nil)
    }
}
