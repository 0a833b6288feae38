import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

@testable import VeneerServer

/// The pass-through path at the byte level: a client writing raw requests, a scripted origin answering with
/// bytes no HTTP library would produce (chunk extensions, close-delimited bodies, junk, malformed heads).
@Suite("Proxy pass-through path (bytes)", .timeLimit(.minutes(3)))
struct ProxyPassThroughPathTests {
    typealias Reply = ScriptedOrigin.Reply
    typealias Script = @Sendable (ScriptedOrigin.Request) -> Reply

    /// A proxy in front of a scripted origin; both stopped afterwards.
    static func with(
        configText: String = "", originSettings: String = "", originPath: String = "", script: @escaping Script,
        _ body: (ProxyHarness, ScriptedOrigin) async throws -> Void
    ) async throws {
        let origin = try await ScriptedOrigin.start(script)
        do {
            try await ProxyHarness.with(
                configText: configText, originURL: origin.url + originPath, originSettings: originSettings
            ) { harness in
                try await body(harness, origin)
            }
        } catch {
            await origin.stop()
            throw error
        }
        await origin.stop()
    }

    /// Replies by path; anything else gets `200 ok`.
    static func paths(_ table: [String: Reply]) -> Script {
        { request in table[request.path] ?? .ok("ok") }
    }

    static func get(_ path: String, _ extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: proxy.test\r\n\(extra)\r\n"
    }

    // MARK: request head

    @Test("the origin gets the rewritten head: hop-by-hop fields gone, X-Forwarded-* set, the rest in order")
    func originRequestHead() async throws {
        try await Self.with(script: Self.paths([:])) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(
                "GET /head?q=1&r=%20 HTTP/1.1\r\nHost: example.test\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                    + "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nConnection: keep-alive\r\n"
                    + "X-Forwarded-For: 203.0.113.9\r\nX-Padded: \t  padded  value \t\r\nAccept: */*\r\n\r\n")
            #expect(await connection.waitFor("\r\n\r\nok"))
            let expected = [
                "GET /head?q=1&r=%20 HTTP/1.1", "Host: 127.0.0.1:\(origin.port)", "X-Padded: padded  value",
                "Accept: */*", "X-Forwarded-For: 203.0.113.9, 127.0.0.1", "X-Forwarded-Proto: http",
                "X-Forwarded-Host: example.test",
            ]
            // Spaces around a value carry no meaning (RFC 9110 §5.5): a kept line may be copied as it came.
            #expect(Self.normalized(origin.heads.first ?? "") == expected)
            #expect(origin.received(connection: 0).hasSuffix("X-Forwarded-Host: example.test\r\n\r\n"))
            #expect(origin.received(connection: 0).components(separatedBy: "\r\n").count == expected.count + 2)
            await connection.close()
        }
    }

    @Test(
        "preserve_host keeps the client's Host where it was, X-Forwarded-Proto/Host given are kept, an empty X-Forwarded-For adds nothing, base path"
    )
    func originRequestHeadPreservingHost() async throws {
        try await Self.with(originSettings: "preserve_host = true", originPath: "/base", script: Self.paths([:])) {
            harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(
                "HEAD /a/b.js HTTP/1.1\r\nX-Forwarded-Proto: https\r\nhost:shop.example\r\n"
                    + "X-Forwarded-Host: public.example\r\nX-Forwarded-For: 198.51.100.1\r\n"
                    + "X-Forwarded-For:\r\nx-forwarded-for: 198.51.100.2\r\n\r\n")
            #expect(await connection.waitFor("\r\n\r\n"))
            #expect(
                Self.normalized(origin.heads.first ?? "") == [
                    "HEAD /base/a/b.js HTTP/1.1", "X-Forwarded-Proto: https", "host: shop.example",
                    "X-Forwarded-Host: public.example", "X-Forwarded-For: 198.51.100.1, 198.51.100.2, 127.0.0.1",
                ])
            await connection.close()
        }
    }

    // MARK: response framing

    @Test("a chunked body with an extension and trailers reaches the client byte for byte; the origin is reused")
    func chunkedWithExtensionAndTrailer() async throws {
        let body = "5;name=value\r\nhello\r\n7\r\n, world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
        let script = Self.paths([
            "/chunked": .writes([
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5;na",
                "me=value\r\nhel",
                "lo\r\n7\r\n, world\r", "\n0\r\nX-Check", "sum: abc\r\nX-Other: 1\r\n", "\r\n",
            ]),
            "/plain": .ok("second"),
        ])
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/chunked"))
            #expect(await connection.waitFor("X-Other: 1\r\n\r\n"))
            let first = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" + body
            #expect(connection.text == first)
            try await connection.send(Self.get("/plain"))
            #expect(await connection.waitFor("second"))
            #expect(connection.text == first + "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
            #expect(origin.connectionsAccepted == 1)
            #expect(origin.requests.map(\.connection) == [0, 0])
            await connection.close()
        }
    }

    @Test("a body ended by the origin's close goes to the client chunked, and the client connection stays")
    func closeDelimitedBody() async throws {
        let script = Self.paths([
            "/stream": .writes(
                ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part;", " second part"], then: .close),
            "/old": .send("HTTP/1.0 200 OK\r\nX-Old: yes\r\n\r\nold style", then: .close),
            "/plain": .ok("after"),
        ])
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/stream"))
            let first = await Self.responses(on: connection, count: 1)
            #expect(first.first?.status == 200)
            #expect(first.first?.text == "first part; second part")
            #expect(
                connection.text.hasPrefix(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"))
            try await connection.send(Self.get("/old"))
            let second = await Self.responses(on: connection, count: 2)
            #expect(second.count == 2)
            #expect(second.last?.text == "old style")
            #expect(second.last?.head == "HTTP/1.1 200 OK\r\nX-Old: yes\r\nTransfer-Encoding: chunked")
            try await connection.send(Self.get("/plain"))
            let third = await Self.responses(on: connection, count: 3)
            #expect(third.last?.text == "after")
            #expect(connection.channel.isActive)
            #expect(origin.connectionsAccepted == 3)
            // An HTTP client library decodes it the same way.
            let response = try await harness.get("/stream")
            #expect(response.status == 200)
            #expect(response.body == "first part; second part")
            #expect(response.headers.first(name: "content-length") == nil)
            await connection.close()
        }
    }

    @Test(
        "a close-delimited body cut by a TCP reset does not end with a clean last chunk (pass-through, codec path)",
        arguments: ["", "Connection: X-Hop\r\n"])
    func closeDelimitedBodyCutByReset(extra: String) async throws {
        let script = Self.paths([
            "/cut": .writes(
                ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial body", ""], delay: .milliseconds(150),
                then: .reset)
        ])
        try await Self.with(script: script) { harness, _ in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/cut", extra))
            #expect(await connection.waitFor("partial body"))
            // RFC 9112 §8: close-delimited and an error from the connection: incomplete, so the client must
            // not be told the body is complete.
            #expect(await connection.waitForClose(seconds: 10), "got: \(connection.text.debugDescription)")
            #expect(!connection.text.hasSuffix("0\r\n\r\n"), "got: \(connection.text.debugDescription)")
            await connection.close()
        }
    }

    @Test(
        "a body followed by junk: the client gets the body exactly; the origin connection is not reused",
        arguments: [
            ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloJUNK!!"],
            ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "JUNK"],
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nJUNK"],
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 200 OK\r\n"],
        ])
    func bodyThenJunk(parts: [String]) async throws {
        let expected = parts[0].replacingOccurrences(of: "JUNK!!", with: "").replacingOccurrences(of: "JUNK", with: "")
        let script = Self.paths(["/junk": .writes(parts), "/plain": .ok("next")])
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/junk"))
            #expect(await connection.waitFor("hello"))
            // Late junk arrives while the connection is idle in the pool.
            try await Task.sleep(for: .milliseconds(300))
            #expect(connection.text == expected)
            try await connection.send(Self.get("/plain"))
            #expect(await connection.waitFor("next"))
            #expect(connection.text == expected + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")
            #expect(origin.requests.map(\.connection) == [0, 1])
            await connection.close()
        }
    }

    @Test("a Content-Length body cut short by the origin: the client connection is cut, not completed")
    func contentLengthCutShort() async throws {
        let script = Self.paths([
            "/short": .writes(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten!!", ""], then: .close)
        ])
        try await Self.with(script: script) { harness, _ in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/short"))
            #expect(await connection.waitForClose(seconds: 10))
            #expect(connection.text == "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten!!")
        }
    }

    @Test("HEAD with Content-Length: 1234 and no body: the head comes at once, the connection goes on")
    func headWithContentLength() async throws {
        let script: Script = { request in
            switch (request.path, request.head.hasPrefix("HEAD ")) {
            case ("/big.css", true): .send("HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: 1234\r\n\r\n")
            case ("/rude.css", true): .send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            default: .ok("after")
            }
        }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            let started = ContinuousClock.now
            try await connection.send("HEAD /big.css HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.waitFor("Content-Length: 1234\r\n\r\n", seconds: 2))
            #expect(ContinuousClock.now - started < .seconds(2))
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nContent-Length: 1234\r\n\r\n"
            #expect(connection.text == head)
            try await connection.send(Self.get("/plain"))
            #expect(await connection.waitFor("after"))
            #expect(connection.text == head + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter")
            #expect(origin.connectionsAccepted == 1)
            // An origin that sends a body with its answer to HEAD: the client gets the head only, and that
            // origin connection is not used again.
            try await connection.send("HEAD /rude.css HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.waitFor("Content-Length: 5\r\n\r\n"))
            try await connection.send(Self.get("/plain"))
            let afterRude =
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter"
            #expect(await connection.waitFor(afterRude))
            #expect(connection.text == head + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter" + afterRude)
            #expect(origin.requests.map(\.connection) == [0, 0, 0, 1])
            await connection.close()
        }
    }

    @Test("304 and 204 have no body and keep both connections; Content-Length: 5, 5 reaches the client once")
    func bodilessStatuses() async throws {
        let script = Self.paths([
            "/304": .send("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\n\r\n"),
            "/204": .send("HTTP/1.1 204 No Content\r\nX-Reason: none\r\n\r\n"),
            "/twice": .send("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nfive!"),
            "/plain": .ok("ok"),
        ])
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            var expected = ""
            for (path, response) in [
                ("/304", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nCache-Control: max-age=60\r\n\r\n"),
                ("/204", "HTTP/1.1 204 No Content\r\nX-Reason: none\r\n\r\n"),
                ("/twice", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfive!"),
                ("/plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            ] {
                try await connection.send(Self.get(path))
                expected += response
                #expect(await connection.waitFor(response), "\(path)")
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(connection.text == expected)
            #expect(origin.connectionsAccepted == 1)
            await connection.close()
        }
    }

    @Test("103 Early Hints reaches the client before the final response, and in the same read after it")
    func earlyHints() async throws {
        let hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        let final = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        let script = Self.paths([
            "/together": .send(hints + final),
            "/hints": .writes([hints, final], delay: .seconds(3)),
        ])
        try await Self.with(script: script) { harness, _ in
            let together = try await RawConnection.connect(port: harness.port)
            try await together.send(Self.get("/together"))
            #expect(await together.waitFor("\r\n\r\nok"))
            #expect(together.text == hints + final)
            await together.close()

            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/hints"))
            // The hint is worth something only if it arrives while the origin is still working on the page.
            #expect(await connection.waitFor("103 Early Hints", seconds: 2.5), "nothing before the final response")
            #expect(!connection.text.contains("200 OK"))
            #expect(await connection.waitFor("\r\n\r\nok", seconds: 5))
            #expect(connection.text == hints + final)
            await connection.close()
        }
    }

    @Test(
        "malformed origin responses give 502 with the plain page, and the client connection goes on",
        arguments: [
            "HTTP/2 200\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!",
            "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            "HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\n Folded: x\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok",
        ])
    func malformedResponses(response: String) async throws {
        try await Self.with(script: Self.paths(["/bad": .send(response), "/plain": .ok("fine")])) { harness, _ in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/bad"))
            let answers = await Self.responses(on: connection, count: 1)
            let answer = try #require(answers.first, "got: \(connection.text.debugDescription)")
            #expect(answer.status == 502)
            #expect(answer.head.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
            #expect(answer.field("content-type") == "text/plain; charset=utf-8")
            #expect(answer.text == "502 Bad Gateway\nThe site could not be reached. Please try again.\n")
            try await connection.send(Self.get("/plain"))
            let both = await Self.responses(on: connection, count: 2)
            #expect(both.count == 2)
            #expect(both.last?.text == "fine")
            #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"protocol\"} 1"))
            await connection.close()
        }
    }

    @Test(
        "a malformed chunk after the head went out: the client connection is cut before a complete body",
        arguments: [
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "zz\r\nbad\r\n0\r\n\r\n"],
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "3\r\nabcdef\r\n0\r\n\r\n"],
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "3\nabc\n0\n\n"],
            ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nbad\r\n0\r\n\r\n"],
        ])
    func malformedChunk(parts: [String]) async throws {
        let script = Self.paths(["/chunks": .writes(parts, delay: .milliseconds(150))])
        try await Self.with(script: script) { harness, _ in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/chunks"))
            #expect(await connection.waitForClose(seconds: 10), "got: \(connection.text.debugDescription)")
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
            #expect(!connection.text.contains("0\r\n\r\n"))
            // Whatever of the answer arrived is a prefix of the valid part (on a busy machine both writes can
            // arrive in one read, and then nothing of the body goes out).
            #expect(head.hasPrefix(connection.text), "got: \(connection.text.debugDescription)")
        }
    }

    @Test("response heads in pieces, with bare LFs, from HTTP/1.0, with fields Connection names: what the client gets")
    func oddButValidHeads() async throws {
        let pieces =
            "HTTP/1.1 200 OK\r\nX-Long: \(String(repeating: "v", count: 300))\r\nContent-Length: 5\r\n\r\nhello"
        let script = Self.paths([
            "/pieces": .writes(
                stride(from: 0, to: pieces.utf8.count, by: 37).map { start in
                    String(decoding: Array(pieces.utf8)[start..<min(start + 37, pieces.utf8.count)], as: UTF8.self)
                }, delay: .milliseconds(5)),
            "/lf": .send("HTTP/1.1 200 OK\nContent-Length: 2\nX-A:  b \n\nok"),
            "/hop": .send(
                "HTTP/1.1 200 Fine\r\nConnection: X-Secret, close\r\nX-Secret: s\r\nKeep-Alive: timeout=1\r\n"
                    + "X-Kept: k\r\nContent-Length: 3\r\n\r\nhop", then: .close),
            "/http10": .send("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n10"),
            "/plain": .ok("ok"),
        ])
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            var expected = ""
            for (path, response) in [
                ("/pieces", pieces), ("/lf", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok"),
                ("/hop", "HTTP/1.1 200 Fine\r\nX-Kept: k\r\nContent-Length: 3\r\n\r\nhop"),
                ("/http10", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n10"),
                ("/plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            ] {
                try await connection.send(Self.get(path))
                expected += response
                #expect(await connection.waitFor(response), "\(path): \(connection.text.debugDescription)")
            }
            #expect(connection.text == expected)
            // The origin closed after /hop; the client's connection did not. HTTP/1.0 without keep-alive: the
            // origin connection is not reused.
            #expect(connection.channel.isActive)
            #expect(origin.requests.map(\.connection) == [0, 0, 0, 1, 2])
            await connection.close()
        }
    }

    // MARK: origin connections

    @Test("a pooled origin connection that the origin closed after a wait: the next request gets a new one")
    func pooledConnectionClosedWhileIdle() async throws {
        let script: Script = { _ in
            .writes(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst", ""], delay: .milliseconds(50), then: .close)
        }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/retry"))
            #expect(await connection.waitFor("first"))
            try await Task.sleep(for: .milliseconds(300))
            try await connection.send(Self.get("/retry"))
            let answers = await Self.responses(on: connection, count: 2)
            #expect(answers.map(\.status) == [200, 200])
            #expect(origin.connectionsAccepted == 2)
            await connection.close()
        }
    }

    @Test(
        "a reused origin connection closed under the request: one retry on a new connection",
        arguments: [Reply.Ending.close, .reset])
    func retryOnReusedConnection(ending: Reply.Ending) async throws {
        let script: Script = { request in
            switch (request.connection, request.index) {
            case (0, 0): return .ok("first")
            case (0, _): return Reply(parts: [], ending: ending)
            default: return .ok("again")
            }
        }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/retry"))
            #expect(await connection.waitFor("first"))
            try await connection.send(Self.get("/retry"))
            let answers = await Self.responses(on: connection, count: 2)
            #expect(answers.map(\.status) == [200, 200])
            #expect(answers.map(\.text) == ["first", "again"])
            #expect(origin.requests.map(\.connection) == [0, 0, 1])
            #expect(origin.heads.count == 3)
            #expect(Set(origin.heads).count == 1, "the retry is the same request")
            await connection.close()
        }
    }

    @Test("only one retry: a fresh connection closed under the request gives 502")
    func onlyOneRetry() async throws {
        let script: Script = { request in
            request.connection == 0 && request.index == 0 ? .ok("first") : Reply(parts: [], ending: .close)
        }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/retry"))
            #expect(await connection.waitFor("first"))
            try await connection.send(Self.get("/retry"))
            let answers = await Self.responses(on: connection, count: 2)
            #expect(answers.map(\.status) == [200, 502])
            #expect(origin.requests.map(\.connection) == [0, 0, 1])
            #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"reset\"} 1"))
            await connection.close()
        }
    }

    // MARK: client connections

    /// 96 KiB in three writes: more than one read and more than the inline part of a head's write.
    static let bigBody =
        String(repeating: "x", count: 32 * 1024) + String(repeating: "y", count: 32 * 1024)
        + String(repeating: "z", count: 32 * 1024)

    static func big(_ chunked: Bool) -> Reply {
        let third = 32 * 1024
        let pieces = [0, 1, 2].map { String(Self.bigBody.dropFirst($0 * third).prefix(third)) }
        if chunked {
            return .writes(
                ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"] + pieces.map { "8000\r\n\($0)\r\n" }
                    + ["0\r\n\r\n"], delay: .milliseconds(20))
        }
        return .writes(
            ["HTTP/1.1 200 OK\r\nContent-Length: \(Self.bigBody.utf8.count)\r\n\r\n"] + pieces, delay: .milliseconds(20)
        )
    }

    @Test(
        "pipelined requests across both paths are answered in order",
        arguments: [
            ("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "B:hello"),
            ("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "B:hello"),
            ("GET /b HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", "B:"),
            ("GET /b HTTP/1.1\r\nHost: x\r\nConnection: X-Hop\r\nX-Hop: 1\r\n\r\n", "B:"),
            // Streamed answers on the codec path: the next request waits for the end, not the head.
            ("GET /big HTTP/1.1\r\nHost: x\r\nConnection: X-Hop\r\n\r\n", bigBody),
            ("POST /big-chunked HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", bigBody),
        ])
    func pipelining(middle: String, expectedMiddle: String) async throws {
        let script: Script = { request in
            switch request.path {
            case "/a": return .ok("A")
            case "/b": return .ok("B:" + String(decoding: request.body, as: UTF8.self))
            case "/big": return Self.big(false)
            case "/big-chunked": return Self.big(true)
            default: return Self.big(true)
            }
        }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/a") + middle + Self.get("/c") + Self.get("/a"))
            let answers = await Self.responses(on: connection, count: 4)
            #expect(
                answers.map(\.status) == [200, 200, 200, 200], "got: \(connection.text.prefix(2000).debugDescription)")
            #expect(answers.map(\.text) == ["A", expectedMiddle, Self.bigBody, "A"])
            let middlePath = String(middle.split(separator: " ")[1])
            #expect(origin.requests.map(\.path) == ["/a", middlePath, "/c", "/a"])
            await connection.close()
        }
    }

    @Test("a head sent a byte at a time is answered; then one with bare LFs goes to the codec, which refuses it")
    func headByteByByte() async throws {
        let script: Script = { request in .ok("\(request.path)") }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            for byte in Array((Self.get("/bytewise", "X-Padding: \(String(repeating: "p", count: 300))\r\n")).utf8) {
                try await connection.send(String(decoding: [byte], as: UTF8.self))
            }
            try await connection.send("GET /bare-lf HTTP/1.1\nHost: x\n\n")
            let answers = await Self.responses(on: connection, count: 2)
            #expect(answers.map(\.status) == [200, 400], "got: \(connection.text.debugDescription)")
            #expect(answers.first?.text == "/bytewise")
            #expect(origin.requests.map(\.path) == ["/bytewise"])
            #expect(await connection.waitForClose(seconds: 10))
        }
    }

    @Test("bytes that are no HTTP at all (a TLS hello on the plain port) get the codec's 400 at once")
    func notHTTP() async throws {
        try await Self.with(script: Self.paths([:])) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            let started = ContinuousClock.now
            try await connection.channel.writeAndFlush(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]))
            #expect(await connection.waitForClose(seconds: 5))
            // Not the idle timeout's 60 s, nor a wait for more bytes.
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(connection.text.hasPrefix("HTTP/1.1 400"), "got: \(connection.text.debugDescription)")
            #expect(origin.requests.isEmpty)
        }
    }

    @Test(
        "random mixes of pass-through and codec requests, pipelined in random pieces on parallel connections: every answer in order, to its own request"
    )
    func randomPipelinedMixes() async throws {
        let script: Script = { request in .ok("\(request.path):" + String(decoding: request.body, as: UTF8.self)) }
        // Routed GETs are answered by the `ProxyHandler`, which the front handler hands the head it read.
        let routed = "[[route]]\npath = \"/routed\"\n"
        try await Self.with(configText: routed, script: script) { harness, origin in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for connectionIndex in 0..<6 {
                    group.addTask {
                        var random = SplitMix64(seed: 0xC0FF_EE00 &+ UInt64(connectionIndex))
                        var wire = ""
                        var expected: [String] = []
                        for index in 0..<40 {
                            let path = "/c\(connectionIndex)/r\(index)"
                            switch random.next() % 12 {
                            case 0, 1, 2:
                                let body = String(repeating: "b", count: Int(random.next() % 300))
                                wire +=
                                    "POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                                expected.append("\(path):\(body)")
                            case 3:
                                // Chunked: the codec takes this connection for good.
                                wire +=
                                    "POST \(path) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                                expected.append("\(path):abc")
                            case 4:
                                wire += "GET \(path) HTTP/1.1\r\nHost: x\r\nX-Spaced:   v   \r\nAccept: */*\r\n\r\n"
                                expected.append("\(path):")
                            case 5, 6:
                                let routedPath = "/routed" + path
                                wire +=
                                    "GET \(routedPath) HTTP/1.1\r\nHost: x\r\nCookie: a=\(index)\r\nX-Tail: t \t\r\n\r\n"
                                expected.append("\(routedPath):")
                            default:
                                wire += Self.get(path)
                                expected.append("\(path):")
                            }
                        }
                        let connection = try await RawConnection.connect(port: harness.port)
                        // Random pieces, so that heads and bodies straddle reads.
                        var bytes = Array(wire.utf8)[...]
                        while !bytes.isEmpty {
                            let count = Int(random.next() % 700) + 1
                            try await connection.channel.writeAndFlush(ByteBuffer(bytes: bytes.prefix(count)))
                            bytes = bytes.dropFirst(count)
                        }
                        let answers = await Self.responses(on: connection, count: expected.count, seconds: 30)
                        #expect(answers.map(\.status) == Array(repeating: 200, count: expected.count))
                        #expect(answers.map(\.text) == expected, "connection \(connectionIndex)")
                        await connection.close()
                    }
                }
                try await group.waitForAll()
            }
            #expect(origin.requests.count == 6 * 40)
        }
    }

    @Test("requests that arrive in pieces: a head split mid-line, a body after a pause, then a pass-through GET")
    func requestsInPieces() async throws {
        let script: Script = { request in .ok("\(request.path):" + String(decoding: request.body, as: UTF8.self)) }
        try await Self.with(script: script) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            for piece in ["GET /fi", "rst HTTP/1.1\r\nHost: x\r", "\nAccept: */*\r\n", "\r\n"] {
                try await connection.send(piece)
                try await Task.sleep(for: .milliseconds(30))
            }
            #expect(await connection.waitFor("/first:"))
            try await connection.send("POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
            try await Task.sleep(for: .milliseconds(100))
            try await connection.send("world" + Self.get("/third"))
            let answers = await Self.responses(on: connection, count: 3)
            #expect(answers.map(\.text) == ["/first:", "/second:helloworld", "/third:"])
            #expect(origin.requests.map(\.path) == ["/first", "/second", "/third"])
            await connection.close()
        }
    }

    @Test(
        "shutdown while responses are on their way, on both paths: they complete, then the connections close by themselves"
    )
    func shutdownDuringResponse() async throws {
        let script = Self.paths([
            "/late-head": .writes(["", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate"], delay: .seconds(8)),
            "/late-body": .writes(["HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "body"], delay: .seconds(8)),
            "/late-post": .writes(["", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npost"], delay: .seconds(8)),
        ])
        try await Self.with(script: script) { harness, origin in
            let lateHead = try await RawConnection.connect(port: harness.port)
            let lateBody = try await RawConnection.connect(port: harness.port)
            let latePost = try await RawConnection.connect(port: harness.port)
            let idle = try await RawConnection.connect(port: harness.port)
            try await lateHead.send(Self.get("/late-head"))
            try await lateBody.send(Self.get("/late-body"))
            // A request with a body goes through the codec and the ProxyHandler.
            try await latePost.send("POST /late-post HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            #expect(await lateBody.waitFor("\r\n\r\n"))
            // All three requests are at the origin, so each connection has a response in flight. The origin waits
            // 8 s before the rest: time for the last request to arrive and the shutdown's notice to follow, even
            // while the whole suite runs.
            for _ in 0..<600 where origin.requests.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
            // A request the proxy has not read yet is not in flight: shutdown would close its connection at once.
            try #require(origin.requests.count == 3)
            let started = ContinuousClock.now
            // Connections still open at the deadline would be cut: one that waited for it did not close by itself.
            await harness.server.shutdown(deadline: .seconds(40))
            #expect(ContinuousClock.now - started < .seconds(30))
            // The proxy's side closing is not the client having read the last bytes: wait for the client's side.
            for connection in [lateHead, lateBody, latePost, idle] {
                #expect(await connection.waitForClose(seconds: 5))
            }
            // The head still to come says the connection ends; the one already sent could not.
            #expect(lateHead.text == "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlate")
            #expect(lateBody.text == "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody")
            #expect(
                latePost.text.hasPrefix("HTTP/1.1 200 OK\r\n") && latePost.text.hasSuffix("\r\n\r\npost"),
                "got: \(latePost.text.debugDescription)")
            #expect(idle.text.isEmpty)
        }
    }

    /// Reads are asked for by the front handler itself after bytes it kept (not by NIO's walk through every
    /// handler); the bound on what it holds must still stop them.
    @Test("megabytes pipelined behind a pass-through request in flight: the proxy stops reading near its bound")
    func pipelinedFloodIsHeld() async throws {
        try await Self.with(script: Self.paths(["/silent": .silent])) { harness, origin in
            let client = try await RawConnection.connect(port: harness.port)
            try await client.send(Self.get("/silent"))
            for _ in 0..<500 where origin.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            try #require(origin.requests.count == 1)
            let request = Self.get("/more")
            let flood = String(repeating: request, count: 4_000_000 / request.utf8.count)
            // Not awaited: the proxy is expected to leave most of it in the sockets.
            client.channel.writeAndFlush(ByteBuffer(string: flood), promise: nil)
            let channel = try #require(harness.server.connectionChannels.first)
            func held() async throws -> Int {
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.handler(type: PassThroughHandler.self).heldByteCount
                }.get()
            }
            // Until the proxy holds at least its bound and stops growing (the client's writes may come slowly on
            // a loaded machine).
            var last = -1
            var current = try await held()
            for _ in 0..<100 where current != last || current < PassThroughHandler.maximumHeldBytes {
                try await Task.sleep(for: .milliseconds(100))
                last = current
                current = try await held()
            }
            // A batch of reads may overshoot the bound by what it read after the last check.
            #expect(current >= PassThroughHandler.maximumHeldBytes)
            #expect(current < PassThroughHandler.maximumHeldBytes + 512 * 1024, "held \(current) bytes")
            #expect(origin.requests.count == 1)
            await client.close()
        }
    }

    @Test("Connection: close on a pass-through request: the response says so and the connection closes")
    func connectionClose() async throws {
        try await Self.with(script: Self.paths([:])) { harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/one", "Connection: close\r\n") + Self.get("/two"))
            #expect(await connection.waitForClose(seconds: 10))
            #expect(connection.text == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            #expect(origin.requests.map(\.path) == ["/one"])
        }
    }

    @Test("Connection: close on a routed page's request (handed to the ProxyHandler as a head): it closes after")
    func connectionCloseOnARoutedPage() async throws {
        try await Self.with(configText: "[[route]]\npath = \"/routed\"\n", script: Self.paths([:])) {
            harness, origin in
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/routed/one", "Connection: close\r\n") + Self.get("/routed/two"))
            #expect(await connection.waitForClose(seconds: 10))
            #expect(connection.text.hasPrefix("HTTP/1.1 200 OK\r\n"), "got: \(connection.text.debugDescription)")
            #expect(connection.text.lowercased().contains("connection: close\r\n"))
            #expect(connection.text.hasSuffix("\r\n\r\nok"))
            #expect(origin.requests.map(\.path) == ["/routed/one"])
        }
    }

    @Test("a routed page is personalized (private, Vary: Cookie, cookies); an asset under the route is untouched")
    func routedPageVersusAsset() async throws {
        let page = "<!DOCTYPE html><html><head><title>t</title></head><body><h1>Shop</h1></body></html>"
        let css =
            "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\nCache-Control: public, max-age=60\r\n"
            + "Content-Length: 7\r\n\r\nbody{} "
        let script = Self.paths([
            "/shop/page": .send(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: public, max-age=60\r\n"
                    + "Content-Length: \(page.utf8.count)\r\n\r\n\(page)"),
            "/shop/style.css": .send(css),
        ])
        try await Self.with(configText: "[[route]]\npath = \"/shop\"\n", script: script) { harness, _ in
            let personalized = try await harness.get("/shop/page")
            #expect(personalized.status == 200)
            #expect(personalized.body == page)
            #expect(personalized.headers.first(name: "cache-control") == "private")
            #expect(personalized.headers[canonicalForm: "vary"].map(String.init).contains("Cookie"))
            #expect(personalized.headers["set-cookie"].contains { $0.hasPrefix("vnr_pid=") })

            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send(Self.get("/shop/style.css"))
            #expect(await connection.waitFor("body{} "))
            #expect(connection.text == css)
            await connection.close()
            #expect(harness.metricsText.contains("veneer_requests_total{route=\"/shop\",status=\"2xx\"} 2"))

            // Pipelined: the page (decided, then rewritten off the event loop) and the asset answer in order.
            let pipelined = try await RawConnection.connect(port: harness.port)
            try await pipelined.send(
                Self.get("/shop/page") + Self.get("/shop/style.css") + Self.get("/shop/page") + Self.get("/x.png"))
            let answers = await Self.responses(on: pipelined, count: 4)
            #expect(answers.map(\.text) == [page, "body{} ", page, "ok"], "got: \(pipelined.text.debugDescription)")
            #expect(answers.map { $0.field("cache-control") } == ["private", "public, max-age=60", "private", nil])
            await pipelined.close()
        }
    }

    @Test("origin.timeout on a pass-through GET to a silent origin: 504, and the connection goes on")
    func timeout() async throws {
        let script = Self.paths(["/silent": .silent, "/plain": .ok("alive")])
        try await Self.with(originSettings: "timeout = \"1s\"", script: script) { harness, _ in
            let connection = try await RawConnection.connect(port: harness.port)
            let started = ContinuousClock.now
            try await connection.send(Self.get("/silent"))
            let answers = await Self.responses(on: connection, count: 1, seconds: 8)
            let elapsed = ContinuousClock.now - started
            let answer = try #require(answers.first, "got: \(connection.text.debugDescription)")
            #expect(answer.status == 504)
            #expect(answer.text == "504 Gateway Timeout\nThe site did not answer in time. Please try again.\n")
            #expect(answer.field("cache-control") == "no-store")
            #expect(elapsed >= .milliseconds(900))
            #expect(elapsed < .seconds(4))
            try await connection.send(Self.get("/plain"))
            let both = await Self.responses(on: connection, count: 2)
            #expect(both.last?.text == "alive")
            #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"timeout\"} 1"))
            await connection.close()
        }
    }

    @Test("metrics count pass-through requests as unrouted by status class")
    func metrics() async throws {
        let script = Self.paths(["/missing": .send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")])
        try await Self.with(script: script) { harness, _ in
            for index in 0..<5 {
                let response = try await harness.get("/asset-\(index).js")
                #expect(response.status == 200)
            }
            #expect(try await harness.get("/missing").status == 404)
            let text = harness.metricsText
            #expect(
                ProxyPassThroughTests.value(in: text, of: "veneer_requests_total{route=\"unrouted\",status=\"2xx\"}")
                    == 5)
            #expect(
                ProxyPassThroughTests.value(in: text, of: "veneer_requests_total{route=\"unrouted\",status=\"4xx\"}")
                    == 1)
            let reused =
                ProxyPassThroughTests.value(in: text, of: "veneer_origin_connections_total{kind=\"reused\"}") ?? 0
            let opened = ProxyPassThroughTests.value(in: text, of: "veneer_origin_connections_total{kind=\"new\"}") ?? 0
            #expect(reused + opened == 6, "\(text)")
        }
    }

    // MARK: reading raw bytes

    /// A head's lines with each field as `Name: value`, the value without the spaces around it.
    static func normalized(_ head: String) -> [String] {
        let lines = head.components(separatedBy: "\r\n")
        return lines.prefix(1)
            + lines.dropFirst().map { line in
                guard let colon = line.firstIndex(of: ":") else { return line }
                let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
                return line[..<colon] + ": " + value
            }
    }

    struct RawResponse {
        var status: Int
        /// Status line and fields, without the final CRLFCRLF.
        var head: String
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }

        func field(_ name: String) -> String? {
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                if line[..<colon].lowercased() == name.lowercased() {
                    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            }
            return nil
        }
    }

    /// The complete final responses (1xx skipped) at the start of `bytes`; responses to HEAD are not read.
    static func parseResponses(_ bytes: [UInt8]) -> [RawResponse] {
        var responses: [RawResponse] = []
        var rest = bytes[...]
        while let end = HTTPText.headEnd(rest) {
            let head = String(decoding: rest.prefix(end - 4), as: UTF8.self)
            var response = RawResponse(status: Int(head.dropFirst(9).prefix(3)) ?? 0, head: head, body: [])
            let afterHead = rest.dropFirst(end)
            if response.status < 200 || response.status == 204 || response.status == 304 {
                rest = afterHead
                if response.status >= 200 { responses.append(response) }
                continue
            }
            if response.field("transfer-encoding") == "chunked" {
                guard let decoded = HTTPText.dechunk(afterHead) else { break }
                response.body = decoded.body
                rest = afterHead.dropFirst(decoded.length)
            } else if let length = response.field("content-length").flatMap({ Int($0) }), afterHead.count >= length {
                response.body = Array(afterHead.prefix(length))
                rest = afterHead.dropFirst(length)
            } else {
                break
            }
            responses.append(response)
        }
        return responses
    }

    /// Waits until `count` complete responses came (or `seconds` passed) and returns those there are.
    static func responses(on connection: RawConnection, count: Int, seconds: Double = 5) async -> [RawResponse] {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            let parsed = parseResponses(connection.received.withLockedValue { $0 })
            if parsed.count >= count || ContinuousClock.now >= deadline { return parsed }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
