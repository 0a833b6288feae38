import NIOCore
import Testing

@testable import VeneerServer

/// The byte-level scanners of the pass-through path: request heads from clients, response heads and chunked
/// bodies from origins.
@Suite("Pass-through scanning: request heads")
struct PassThroughScanRequestTests {
    static func scan(_ text: String) -> RequestHeadScan { RequestHeadScan.scan(Array(text.utf8)) }

    static func passThrough(_ text: String) -> PassThroughRequest? {
        if case .passThrough(let request) = scan(text) { return request }
        return nil
    }

    /// Bytes through the first blank line.
    static func headLength(_ text: String) -> Int {
        let bytes = Array(text.utf8)
        let blank = (3..<bytes.count).first { Array(bytes[$0 - 3...$0]) == Array("\r\n\r\n".utf8) }
        return blank.map { $0 + 1 } ?? bytes.count
    }

    @Test("a bodiless GET: ranges of method, target and every field, with their kinds")
    func getFields() throws {
        let text =
            "GET /a?b=1 HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
            + "X-Forwarded-For: 1.2.3.4\r\nx-forwarded-proto: http\r\nX-Forwarded-Host: h\r\nProxy-Authorization: x\r\n"
            + "Accept: \t text/html \t\r\nX-Empty:\r\n\r\n"
        let bytes = Array(text.utf8)
        let request = try #require(Self.passThrough(text))
        func slice(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        #expect(request.headLength == bytes.count)
        #expect(slice(request.method) == "GET")
        #expect(slice(request.target) == "/a?b=1")
        #expect(!request.isHEAD && !request.closeRequested)
        #expect(
            request.fields.map { slice($0.name) } == [
                "Host", "Connection", "Keep-Alive", "TE", "X-Forwarded-For", "x-forwarded-proto", "X-Forwarded-Host",
                "Proxy-Authorization", "Accept", "X-Empty",
            ])
        #expect(
            request.fields.map { slice($0.value) } == [
                "shop.example", "keep-alive", "5", "trailers", "1.2.3.4", "http", "h", "x", "text/html", "",
            ])
        #expect(
            request.fields.map(\.kind) == [
                .host, .connection, .hopByHop, .hopByHop, .forwardedFor, .forwardedProto, .forwardedHost, .hopByHop,
                .other,
                .other,
            ])
    }

    @Test(
        "HEAD and Connection tokens: close in any case or list position ends the connection",
        arguments: [
            ("close", true), ("Close", true), ("CLOSE", true), ("keep-alive", false), ("Keep-Alive", false),
            ("keep-alive, close", true), (" , close ,", true), ("", false),
        ])
    func connectionClose(value: String, close: Bool) throws {
        let request = try #require(Self.passThrough("HEAD / HTTP/1.1\r\nHost: a\r\nConnection: \(value)\r\n\r\n"))
        #expect(request.isHEAD)
        #expect(request.closeRequested == close)
    }

    @Test("head length stops at the blank line when a pipelined request follows")
    func pipelinedPassThrough() throws {
        let first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
        let request = try #require(Self.passThrough(first + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"))
        #expect(request.headLength == first.utf8.count)
    }

    @Test(
        "well-formed but not pass-through: ordinary with head length plus Content-Length",
        arguments: [
            ("POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", 5),
            ("GET / HTTP/1.0\r\nHost: a\r\n\r\n", 0), ("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0), ("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\ncontent-length: 007\r\n\r\n", 7), ("get / HTTP/1.1\r\nHost: a\r\n\r\n", 0),
            ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0), ("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", 0),
            ("PUT /x HTTP/1.0\r\nContent-Length: 123456789012345\r\n\r\n", 123_456_789_012_345),
        ])
    func ordinary(head: String, contentLength: Int) {
        #expect(Self.scan(head) == .ordinary(length: head.utf8.count + contentLength))
    }

    @Test(
        "upgrade requests are the codec's last on the connection (llhttp reads nothing after them)",
        arguments: [
            ("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0),
            ("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n", 0),
            ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 0),
            ("POST /u HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nContent-Length: 3\r\n\r\n", 3),
        ])
    func lastOrdinary(head: String, contentLength: Int) {
        #expect(Self.scan(head) == .lastOrdinary(length: head.utf8.count + contentLength))
    }

    @Test("ordinary length counts only this request's body when the next request is already buffered")
    func ordinaryWithBodyAndNext() {
        let head = "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
        #expect(
            Self.scan(head + "hello" + "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == .ordinary(length: head.utf8.count + 5))
        #expect(Self.scan(head + "he") == .ordinary(length: head.utf8.count + 5))
    }

    @Test(
        "anything not strictly valid is handed over",
        arguments: [
            "GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\r\nHost: a\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\n",
            "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\rHost: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\tX: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{0}b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{7F}\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX: \u{1B}\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX@Y: 1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n",
            "GET / HTTP/1.1\r\nHóst: a\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: identity\r\nContent-Length: 1\r\n\r\nx",
            "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
            "GET / http/1.1\r\nHost: a\r\n\r\n",
            "GET / HTTP/1.10\r\nHost: a\r\n\r\n", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
            "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "GET HTTP/1.1\r\nHost: a\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n",
        ])
    func handOver(text: String) {
        #expect(Self.scan(text) == .handOver)
    }

    static let validRequests = [
        "GET /a HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "POST /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", "GET / HTTP/1.0\r\n\r\n",
    ]

    @Test(
        "an unfinished head with a control byte is handed over at once (TLS on the plain port), plain ones wait",
        arguments: [
            ([0x16, 0x03, 0x01, 0x02, 0x00], RequestHeadScan.handOver),
            (Array("GET / HTTP/1.1\r\nX: a\u{0}".utf8), .handOver),
            (Array("GET / HTTP/1.1\r\nX: a\u{7f}".utf8), .handOver),
            (Array("GET / HTTP/1.1\r\nX: a\tb\r".utf8), .incomplete),
            (Array("GET / HTTP/1.1\r\nX: é".utf8), .incomplete),
        ])
    func unfinishedWithControlByte(bytes: [UInt8], expected: RequestHeadScan) {
        #expect(RequestHeadScan.scan(bytes) == expected)
    }

    @Test("every proper prefix of a head is incomplete; the whole head decides", arguments: validRequests)
    func prefixes(text: String) {
        let bytes = Array(text.utf8)
        let head = Self.headLength(text)
        let final = RequestHeadScan.scan(bytes)
        #expect(final != .incomplete && final != .handOver)
        for end in 0..<head {
            let result = RequestHeadScan.scan(Array(bytes[..<end]))
            #expect(result == .incomplete, "prefix of \(end) bytes: \(result)")
        }
        for end in head...bytes.count {
            #expect(RequestHeadScan.scan(Array(bytes[..<end])) == final, "prefix of \(end) bytes")
        }
    }

    /// The proxy reuses one field list per connection: a head with fewer fields after one with many, or after
    /// heads that were handed over or unfinished, must come out with its own fields only.
    @Test("one field list reused from head to head gives each head what a fresh scan gives")
    func reusedFieldStorage() {
        let heads = [
            "GET /a HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n\r\n",
            "GET /b HTTP/1.1\r\nHost: b\r\n\r\n",
            "POST /f HTTP/1.1\r\nHost: a\r\nX-1: 1\r\nContent-Length: 3\r\n\r\nabc",
            "GET /c HTTP/1.1\r\nHost: c\r\nX-Unfinished: 1\r\n",
            "HEAD /d HTTP/1.1\r\nConnection: close\r\nHost: d\r\nAccept: */*\r\n\r\n",
            "GET /e HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /b HTTP/1.1\r\nHost: b\r\n\r\n",
        ]
        var storage: [PassThroughRequest.Field] = []
        for text in heads + heads.reversed() {
            let reused = Array(text.utf8).withUnsafeBytes { RequestHeadScan.scan($0, reusing: &storage) }
            #expect(reused == Self.scan(text), "\(text.debugDescription)")
        }
        #expect(storage.capacity >= 16)
        // A head of a thousand fields is read, but the list that held them is not kept for the connection.
        let many = "GET /m HTTP/1.1\r\nHost: m\r\n" + String(repeating: "X: 1\r\n", count: 1000) + "\r\n"
        let result = Array(many.utf8).withUnsafeBytes { RequestHeadScan.scan($0, reusing: &storage) }
        if case .passThrough(let request) = result {
            #expect(request.fields.count == 1001)
        } else {
            Issue.record("not passed through: \(result)")
        }
        #expect(storage.capacity <= HeadFieldList.reusableCapacity)
    }

    @Test("heads may take up to 64 KiB; longer or unfinished past it is handed over")
    func headLimit() throws {
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
        func request(total: Int) -> String {
            prefix + String(repeating: "p", count: total - prefix.utf8.count - 4) + "\r\n\r\n"
        }
        let limit = RequestHeadScan.maximumHeadBytes
        #expect(limit == 65_536)
        #expect(try #require(Self.passThrough(request(total: limit))).headLength == limit)
        let next = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(try #require(Self.passThrough(request(total: limit) + next)).headLength == limit)
        #expect(Self.scan(request(total: limit + 1)) == .handOver)
        #expect(Self.scan(String(request(total: limit + 100).dropLast(4))) == .handOver)
        #expect(Self.scan(String(request(total: limit).dropLast(4))) == .incomplete)
        #expect(RequestHeadScan.scan([UInt8](repeating: 0x61, count: limit - 1)) == .incomplete)
        #expect(RequestHeadScan.scan([UInt8](repeating: 0x61, count: limit)) == .handOver)
    }

    @Test("a ByteBuffer's readable bytes are scanned from its reader index")
    func byteBufferView() {
        let text = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET"
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        buffer.writeString("junk" + text)
        buffer.moveReaderIndex(forwardBy: 4)
        let result = RequestHeadScan.scan(buffer.readableBytesView)
        #expect(result == Self.scan(text))
        if case .passThrough(let request) = result {
            #expect(request.headLength == text.utf8.count - 3 && request.target == 4..<6 && request.closeRequested)
        } else {
            Issue.record("not passed through: \(result)")
        }
    }

    @Test("token and field-value bytes match RFC 9110 §5.5 and §5.6.2 for all 256 bytes; decimals of 1 to 15 digits")
    func byteClasses() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(HTTPSyntax.isTokenByte(byte) == tchar.contains(byte), "token byte \(byte)")
            let fieldValue = byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
            #expect(HTTPSyntax.isFieldValueByte(byte) == fieldValue, "field value byte \(byte)")
        }
        func decimal(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBytes { HTTPSyntax.decimal($0, 0..<$0.count) }
        }
        #expect(decimal("0") == 0 && decimal("0042") == 42)
        #expect(decimal("999999999999999") == 999_999_999_999_999)
        #expect(decimal("1000000000000000") == nil && decimal("") == nil && decimal("4 2") == nil)
    }
}

@Suite("Pass-through scanning: response heads")
struct PassThroughScanResponseTests {
    static func complete(_ text: String, head: Bool = false) -> ScannedResponseHead? {
        if case .complete(let scanned) = ResponseHeadScan.scan(Array(text.utf8), requestIsHEAD: head) { return scanned }
        return nil
    }

    static func clientHead(_ text: String, head: Bool = false, closing: Bool) -> String? {
        let bytes = Array(text.utf8)
        guard let scanned = complete(text, head: head) else { return nil }
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        bytes.withUnsafeBytes { scanned.writeClientHead(from: $0, closing: closing, into: &buffer) }
        return String(buffer: buffer)
    }

    @Test(
        "framing and connection reuse",
        arguments: [
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, BodyFraming.length(5), true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", false, .length(5), true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", false, .length(5), true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, .chunked, true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\nContent-Length: 7\r\n\r\n", false, .chunked, true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nTransfer-Encoding: Chunked\r\n\r\n", false, .chunked, true),
            ("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", false, .untilClose, false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, BodyFraming.none, true),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true, BodyFraming.none, true),
            ("HTTP/1.1 204 No Content\r\n\r\n", false, BodyFraming.none, true),
            ("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false, BodyFraming.none, true),
            ("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false, .length(0), false),
            ("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", false, .length(0), false),
            ("HTTP/1.1 200 OK\r\nConnection: x-hop,Close\r\nContent-Length: 0\r\n\r\n", false, .length(0), false),
            ("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false, .length(1), false),
            ("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n", false, .length(1), true),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\n", false, .length(1), false),
            ("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", false, .untilClose, false),
            ("HTTP/1.1 200 OK\nContent-Length: 2\n\n", false, .length(2), true),
            ("HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\n", false, .length(2), true),
        ])
    func framing(text: String, head: Bool, framing: BodyFraming, keepsAlive: Bool) throws {
        let scanned = try #require(Self.complete(text + "hi", head: head))
        #expect(scanned.framing == framing)
        #expect(scanned.keepsAlive == keepsAlive)
        #expect(scanned.headLength == text.utf8.count)
        #expect(!scanned.isInformational)
    }

    @Test("1xx: informational, no body, even with a length", arguments: [100, 102, 103, 199])
    func informational(status: Int) throws {
        let scanned = try #require(Self.complete("HTTP/1.1 \(status) Info\r\nContent-Length: 5\r\n\r\n"))
        #expect(scanned.isInformational && scanned.framing == BodyFraming.none && scanned.status == status)
    }

    @Test(
        "malformed responses",
        arguments: [
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 O\u{1}K\r\n\r\n",
            "HTTP/1.1 200 OK\r\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX : 1\r\n\r\n", "HTTP/1.1 200 OK\r\n folded\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: a\u{0}\r\n\r\n",
            "\r\nHTTP/1.1 200 OK\r\n\r\n",
        ])
    func malformed(text: String) {
        let result = ResponseHeadScan.scan(Array(text.utf8), requestIsHEAD: false)
        if case .malformed = result {} else { Issue.record("expected malformed, got \(result)") }
    }

    /// A value with list separators but no number is as invalid as an empty one (RFC 9112 §6.3 ¶5), yet it
    /// falls through to read-until-close and the field is dropped from the client's head.
    @Test("a Content-Length of only commas is malformed, not read until close", arguments: [",", " , ,"])
    func contentLengthWithoutNumber(value: String) {
        let result = ResponseHeadScan.scan(
            Array("HTTP/1.1 200 OK\r\nContent-Length: \(value)\r\n\r\n".utf8), requestIsHEAD: false)
        if case .malformed = result {} else { Issue.record("expected malformed, got \(result)") }
    }

    @Test("one field list reused from head to head gives each head what a fresh scan gives")
    func reusedFieldStorage() {
        let heads = [
            "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nConnection: b\r\nD: 4\r\nE: 5\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: 1\r\nTransfer-Encoding: gzip\r\n\r\n",
            "HTTP/1.1 200 OK\r\nX: 1\r\nY: 2\r\n",
            "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n",
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello",
        ]
        var storage: [ScannedResponseHead.Field] = []
        for text in heads + heads.reversed() {
            let reused = Array(text.utf8).withUnsafeBytes {
                ResponseHeadScan.scan($0, requestIsHEAD: false, reusing: &storage)
            }
            #expect(reused == ResponseHeadScan.scan(Array(text.utf8), requestIsHEAD: false), "\(text.debugDescription)")
        }
        #expect(storage.capacity >= 16)
        let many = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + String(repeating: "X: 1\r\n", count: 1000) + "\r\n"
        let result = Array(many.utf8).withUnsafeBytes {
            ResponseHeadScan.scan($0, requestIsHEAD: false, reusing: &storage)
        }
        if case .complete(let head) = result {
            #expect(head.fields.count == 1001)
        } else {
            Issue.record("not complete: \(result)")
        }
        #expect(storage.capacity <= HeadFieldList.reusableCapacity)
    }

    @Test("every proper prefix is incomplete; heads over 80 KiB are malformed")
    func prefixesAndLimit() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nhi".utf8)
        for end in 0..<(bytes.count - 2) {
            let result = ResponseHeadScan.scan(Array(bytes[..<end]), requestIsHEAD: false)
            #expect(result == .incomplete, "prefix of \(end) bytes: \(result)")
        }
        let limit = ResponseHeadScan.maximumHeadBytes
        #expect(ResponseHeadScan.scan([UInt8](repeating: 0x61, count: limit - 1), requestIsHEAD: false) == .incomplete)
        let long = ResponseHeadScan.scan(
            Array(("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: limit)).utf8), requestIsHEAD: false)
        if case .malformed = long {} else { Issue.record("head over the limit: \(long)") }
    }

    @Test("fields that Connection names are hop-by-hop, wherever they appear")
    func nominated() throws {
        let text =
            "HTTP/1.1 200 OK\r\nx-secret: 0\r\nConnection: X-Secret, keep-alive\r\nX-SECRET: 1\r\nX-Open: 2\r\n\r\n"
        let scanned = try #require(Self.complete(text))
        #expect(scanned.fields.map(\.kind) == [.hopByHop, .connection, .hopByHop, .other])
    }

    @Test(
        "the client head: HTTP/1.1, end-to-end lines kept (rewritten trimmed after a bare LF), framing for the client, Connection: close when closing",
        arguments: [
            (
                "HTTP/1.1 200 OK\r\nContent-Type:  text/html \t\r\nContent-Length: 5\r\nConnection: keep-alive, X-Secret\r\n"
                    + "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\n"
                    + "Proxy-Authenticate: Basic\r\nProxy-Connection: x\r\nProxy-Authorization: y\r\nset-cookie: a=b\r\n\r\n",
                false, false,
                "HTTP/1.1 200 OK\r\nContent-Type:  text/html \t\r\nContent-Length: 5\r\nset-cookie: a=b\r\n\r\n"
            ),
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\nX-A: 1\r\n\r\n", false, true,
                "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ),
            (
                "HTTP/1.0 200 Fine\r\nServer: old\r\n\r\n", false, false,
                "HTTP/1.1 200 Fine\r\nServer: old\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            (
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", false, true,
                "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
            ),
            (
                "HTTP/1.1 200 OK\r\nContent-Length: 42\r\nTransfer-Encoding: chunked\r\n\r\n", true, false,
                "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"
            ),
            (
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", false, true,
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nConnection: close\r\n\r\n"
            ),
            ("HTTP/1.1 204\nX-B:\tv\t\nX-Empty:\n\n", false, false, "HTTP/1.1 204\r\nX-B: v\r\nX-Empty: \r\n\r\n"),
        ])
    func clientHead(origin: String, head: Bool, closing: Bool, expected: String) {
        #expect(Self.clientHead(origin, head: head, closing: closing) == expected)
    }

    /// RFC 9112 §6.3 ¶5: a repeated Content-Length is processed "with that single value used as the
    /// Content-Length field value"; forwarding the list (or the field twice) makes strict clients such as
    /// llhttp-based ones refuse the response.
    @Test(
        "a repeated Content-Length reaches the client as one value",
        arguments: [
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
        ])
    func repeatedContentLength(origin: String) {
        #expect(Self.clientHead(origin, closing: false) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    }
}

@Suite("Pass-through scanning: chunked bodies")
struct PassThroughScanChunkedTests {
    /// Feeds `bytes` in pieces ending at `cuts`; the offset in `bytes` where the body ends, or nil.
    static func end(of bytes: [UInt8], cuts: [Int]) throws -> Int? {
        var scanner = ChunkedBodyScanner()
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            let piece = Array(bytes[start..<cut])
            if let taken = try piece.withUnsafeBytes({ try scanner.scan($0) }) { return start + taken }
            start = cut
        }
        return nil
    }

    static let bodies = [
        "5\r\nhello\r\n0\r\n\r\n", "5;name=value\r\nhello\r\nA;a=\"b;c\" ; d\r\n0123456789\r\n0\r\n\r\n",
        "0\r\nX-Check: 1\r\n\r\n",
        "1a\r\nabcdefghijklmnopqrstuvwxyz\r\nF\r\n" + String(repeating: "\r\n", count: 7)
            + "x\r\n0;last\r\nA: 1\r\nB:\r\n\r\n",
        "00000000000000000003 \r\nabc\r\n0\r\n\r\n",
    ]

    @Test(
        "the body ends at the same byte whole, byte by byte, and split anywhere; the next response is not counted",
        arguments: bodies)
    func ends(body: String) throws {
        let bodyBytes = Array(body.utf8)
        let bytes = bodyBytes + Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(try Self.end(of: bodyBytes, cuts: []) == bodyBytes.count)
        #expect(try Self.end(of: Array(bodyBytes.dropLast()), cuts: []) == nil)
        #expect(try Self.end(of: bytes, cuts: []) == bodyBytes.count)
        #expect(try Self.end(of: bytes, cuts: Array(1..<bytes.count)) == bodyBytes.count)
        for cut in 0...bytes.count {
            #expect(try Self.end(of: bytes, cuts: [cut]) == bodyBytes.count, "split at \(cut)")
        }
    }

    @Test("after the end, further bytes are not the body's")
    func afterDone() throws {
        var scanner = ChunkedBodyScanner()
        let end = try Array("0\r\n\r\nHT".utf8).withUnsafeBytes { try scanner.scan($0) }
        #expect(end == 5 && scanner.state == .done)
        let again = try Array("TP".utf8).withUnsafeBytes { try scanner.scan($0) }
        #expect(again == 0)
    }

    @Test("sizes up to 2^56 - 1 are read; 2^56 and more are refused")
    func sizeLimit() throws {
        #expect(try Self.end(of: Array("ffffffffffffff\r\nabc".utf8), cuts: []) == nil)
        #expect(throws: ChunkedBodyScanner.Malformed.self) {
            try Self.end(of: Array("100000000000000\r\n".utf8), cuts: [])
        }
        #expect(throws: ChunkedBodyScanner.Malformed.self) {
            try Self.end(of: Array("ffffffffffffffffffff\r\n".utf8), cuts: [])
        }
    }

    @Test(
        "malformed chunked bodies are refused however they are split",
        arguments: [
            "x\r\n", "-5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "5\nhello\r\n0\r\n\r\n",
            "5\r\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello0\r\n\r\n", "5\r\nhelloo\r\n0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5\r\nhello\r0\r\n\r\n",
            "5;a\u{1}b\r\nhello\r\n0\r\n\r\n", "5;a\nhello\r\n0\r\n\r\n", "5;a\u{7F}\r\nhello\r\n0\r\n\r\n",
            "\r\n0\r\n\r\n", "0\r\nX-Check: 1\n\r\n", "0\r\n X-Check: 1\r\n\r\n", "0\r\nX: \u{0}\r\n\r\n", "0\r\n\r\r",
            "0\r\n\n",
        ])
    func malformed(body: String) {
        let bytes = Array(body.utf8)
        for cuts in [[], Array(1..<bytes.count)] + (0...bytes.count).map({ [$0] }) {
            #expect(throws: ChunkedBodyScanner.Malformed.self, "cuts \(cuts)") { try Self.end(of: bytes, cuts: cuts) }
        }
    }
}
