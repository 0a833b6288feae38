import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import VeneerServer

/// The pass-through path's own readers against NIO's llhttp-based decoders on the same random bytes. Where
/// the proxy claims to know where a message ends, NIO must find the same end: a disagreement there is how
/// request smuggling and response splitting begin. The proxy may refuse more than NIO (it then hands the
/// bytes to NIO, or answers 502); it may never read a message NIO reads differently.
@Suite("Pass-through readers agree with NIO's decoders")
struct PassThroughAgreementTests {
    /// `VENEER_AGREEMENT_ITERATIONS` and `VENEER_AGREEMENT_SEED` run it longer or elsewhere.
    static let iterations = Int(ProcessInfo.processInfo.environment["VENEER_AGREEMENT_ITERATIONS"] ?? "") ?? 5_000
    static let seed = UInt64(ProcessInfo.processInfo.environment["VENEER_AGREEMENT_SEED"] ?? "") ?? 0x5EED

    @Test("a routed page's request is handed on as the head NIO's decoder reads, at the edges of field syntax")
    func handedHeadAtTheEdges() throws {
        // Trailing spaces and tabs (llhttp keeps them), bytes that are not UTF-8, a name repeated in two cases,
        // an empty value and one of spaces only.
        let bytes =
            Array("GET /a?b=%20&c=d HTTP/1.1\r\nHost: h \t\r\nX-Raw: a".utf8) + [0xFF, 0xC3]
            + Array(" \r\nCookie: a=1\r\ncookie: b=2\r\nX-Empty:\r\nX-Spaces:   \r\n".utf8)
            + Array("Connection: keep-alive\r\n\r\n".utf8)
        guard case .passThrough(let request) = RequestHeadScan.scan(bytes) else {
            Issue.record("the scan does not take the request as a pass-through one")
            return
        }
        let handed = bytes.withUnsafeBytes { request.requestHead(in: $0) }
        let decoded = try #require(NIORequestParts(bytes).heads.first)
        #expect(handed == decoded)
        #expect(handed.headers.map { [$0.name, $0.value] } == decoded.headers.map { [$0.name, $0.value] })
        #expect(handed.headers["x-raw"] == ["a\u{FFFD}\u{FFFD} "])
        #expect(handed.uri == "/a?b=%20&c=d")
        let head = Array("HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8)
        guard case .passThrough(let headRequest) = RequestHeadScan.scan(head) else {
            Issue.record("the scan does not take the HEAD request as a pass-through one")
            return
        }
        let handedHEAD = head.withUnsafeBytes { headRequest.requestHead(in: $0) }
        #expect(handedHEAD == (try #require(NIORequestParts(head).heads.first)))
        #expect(handedHEAD.method == .HEAD && !handedHEAD.isKeepAlive)
    }

    @Test("requests: every head the scan accepts ends where NIO's decoder ends it, with the same fields")
    func requests() async throws {
        var random = SplitMix64(seed: Self.seed &+ 1)
        var accepted = 0
        for iteration in 0..<Self.iterations {
            // The suite runs in parallel on few cores: let other tests' tasks run now and then.
            if iteration % 100 == 0 { await Task.yield() }
            let request = RandomRequest(&random)
            let next = Array("GET /next HTTP/1.1\r\nHost: n\r\n\r\n".utf8)
            let bytes = request.bytes + next
            let scan = RequestHeadScan.scan(bytes)
            let claimedLength: Int
            switch scan {
            case .passThrough(let head): claimedLength = head.headLength
            case .ordinary(let length), .lastOrdinary(let length): claimedLength = length
            case .incomplete, .handOver: continue
            }
            accepted += 1
            // NIO reads the claimed bytes and then the next request: if it ends the first anywhere else, the
            // rest is not a request it can read.
            let parts = NIORequestParts(Array(bytes[..<claimedLength]) + next)
            let description =
                "iteration \(iteration): \(String(decoding: request.bytes, as: UTF8.self).debugDescription)"
            guard let first = parts.heads.first else {
                // NIO refused what the scan read: harmless for the codec path (NIO answers 400), wrong for
                // the bytes path, which would forward it.
                if case .passThrough = scan { Issue.record("NIO refused a pass-through request: \(description)") }
                continue
            }
            // NIO reads nothing after a request that closes the connection (HTTP/1.0, `Connection: close`);
            // the proxy closes it after the answer too.
            // After an upgrade request it reads nothing more at all; the proxy closes the connection then.
            if case .lastOrdinary = scan {
                #expect(parts.heads.count == 1 || parts.heads.last?.uri == "/next", "\(description)")
            } else {
                let expectedHeads = first.isKeepAlive ? 2 : 1
                #expect(parts.heads.count == expectedHeads, "NIO ends it elsewhere: \(description)")
                if expectedHeads == 2 { #expect(parts.heads.last?.uri == "/next", "\(description)") }
            }
            if case .passThrough(let head) = scan {
                #expect(first.method == .GET || first.method == .HEAD, "\(description)")
                #expect(parts.bodyBytes[0] == 0, "a body NIO reads: \(description)")
                let ours = bytes.withUnsafeBytes { raw in
                    head.fields.map {
                        (
                            String(decoding: UnsafeRawBufferPointer(rebasing: raw[$0.name]), as: UTF8.self),
                            String(decoding: UnsafeRawBufferPointer(rebasing: raw[$0.value]), as: UTF8.self)
                        )
                    }
                }
                // llhttp keeps a value's trailing spaces and tabs, which RFC 9110 §5.5 leaves out; the origin gets
                // the line as the client sent it either way.
                let theirs = first.headers.map {
                    ($0.name, $0.value.trimmingCharacters(in: .init(charactersIn: " \t")))
                }
                #expect(ours.map(\.0) == theirs.map(\.0), "field names: \(description)")
                #expect(ours.map(\.1) == theirs.map(\.1), "field values: \(description)")
                let target = bytes.withUnsafeBytes {
                    String(decoding: UnsafeRawBufferPointer(rebasing: $0[head.target]), as: UTF8.self)
                }
                #expect(target == first.uri, "target: \(description)")
                // The head a routed page's request is handed to the `ProxyHandler` as, instead of NIO's.
                let handed = bytes.withUnsafeBytes { head.requestHead(in: $0) }
                #expect(handed == first, "handed head: \(description)")
                #expect(
                    handed.headers.map { [$0.name, $0.value] } == first.headers.map { [$0.name, $0.value] },
                    "handed fields in order: \(description)")
                #expect(handed.isKeepAlive == first.isKeepAlive, "handed keep-alive: \(description)")
            }
        }
        // The generator must reach both outcomes often enough for the test to mean something.
        #expect(accepted > Self.iterations / 10)
    }

    @Test("responses: every framing the scan accepts ends the body where NIO's decoder ends it")
    func responses() async throws {
        var random = SplitMix64(seed: Self.seed &+ 2)
        var checked = 0
        for iteration in 0..<Self.iterations {
            if iteration % 100 == 0 { await Task.yield() }
            let response = RandomResponse(&random)
            let next = Array("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext".utf8)
            let bytes = response.bytes + next
            guard case .complete(let head) = ResponseHeadScan.scan(bytes, requestIsHEAD: response.isHEAD),
                !head.isInformational
            else { continue }
            let bodyLength: Int
            switch head.framing {
            case .none:
                bodyLength = 0
            case .length(let length):
                guard head.headLength + length <= response.bytes.count else { continue }
                bodyLength = length
            case .chunked:
                var scanner = ChunkedBodyScanner()
                let end: Int?
                do {
                    end = try bytes.withUnsafeBytes { raw throws(ChunkedBodyScanner.Malformed) in
                        try scanner.scan(UnsafeRawBufferPointer(rebasing: raw[head.headLength...]))
                    }
                } catch {
                    continue
                }
                guard let end else { continue }
                bodyLength = end
            case .untilClose:
                continue
            }
            let description =
                "iteration \(iteration), HEAD \(response.isHEAD): "
                + String(decoding: response.bytes, as: UTF8.self).debugDescription
            let end = head.headLength + bodyLength
            // Where NIO reads the origin's bytes too, it must end the response where the scan does.
            let originParts = NIOResponseParts(Array(bytes[..<end]) + next, firstIsHEAD: response.isHEAD)
            if originParts.error == nil || originParts.heads.count > 0 {
                // After a response that closes the connection NIO may read no further, and the proxy does not.
                if head.keepsAlive {
                    #expect(originParts.heads.count == 2, "NIO ends it elsewhere: \(description)")
                    #expect(originParts.bodies.last == Array("next".utf8), "the next response: \(description)")
                } else {
                    #expect(originParts.heads.count >= 1, "NIO reads no response: \(description)")
                }
            }
            // Whatever NIO thinks of the origin's bytes, what the client gets must read as one response with
            // the origin's status and body, then the next one.
            var clientHead = ByteBuffer()
            bytes.withUnsafeBytes { head.writeClientHead(from: $0, closing: false, into: &clientHead) }
            let clientBytes = Array(clientHead.readableBytesView) + Array(bytes[head.headLength..<end]) + next
            let parts = NIOResponseParts(clientBytes, firstIsHEAD: response.isHEAD)
            let clientDescription = "\(description) → \(String(decoding: clientBytes, as: UTF8.self).debugDescription)"
            guard parts.heads.count == 2 else {
                Issue.record(
                    "NIO read \(parts.heads.count) responses (\(parts.error ?? "no error")): \(clientDescription)")
                continue
            }
            checked += 1
            #expect(Int(parts.heads[0].status.code) == head.status, "status: \(clientDescription)")
            #expect(parts.bodies[1] == Array("next".utf8), "the next response: \(clientDescription)")
            if case .length(let length) = head.framing {
                #expect(parts.bodies[0] == Array(bytes[head.headLength..<end]), "\(clientDescription)")
                #expect(parts.bodies[0].count == length, "\(clientDescription)")
            }
        }
        #expect(checked > Self.iterations / 10)
    }
}

// MARK: NIO's reading

/// What NIO's server decoder makes of some bytes: heads, body bytes per request, and whether it failed.
private struct NIORequestParts {
    var heads: [HTTPRequestHead] = []
    var bodyBytes: [Int] = []
    var failed = false

    init(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.addHandler(
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            failed = true
        }
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                heads.append(head)
                bodyBytes.append(0)
            case .body(let buffer):
                bodyBytes[bodyBytes.count - 1] += buffer.readableBytes
            case .end:
                break
            }
        }
    }
}

/// What NIO's client decoder makes of two responses to two requests (the first GET or HEAD).
private struct NIOResponseParts {
    var heads: [HTTPResponseHead] = []
    var bodies: [[UInt8]] = []
    var error: String?

    init(_ bytes: [UInt8], firstIsHEAD: Bool) {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers(leftOverBytesStrategy: .dropBytes)
            for method in [firstIsHEAD ? HTTPMethod.HEAD : .GET, .GET] {
                try channel.writeOutbound(
                    HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
                try channel.writeOutbound(HTTPClientRequestPart.end(nil))
            }
            try channel.writeInbound(ByteBuffer(bytes: bytes))
        } catch {
            self.error = "\(error)"
        }
        while let part = try? channel.readInbound(as: HTTPClientResponsePart.self) {
            switch part {
            case .head(let head):
                // NIO reports 1xx heads as responses of their own; the final one is what is compared.
                if head.status.code < 200 { continue }
                heads.append(head)
                bodies.append([])
            case .body(let buffer):
                if !bodies.isEmpty { bodies[bodies.count - 1] += Array(buffer.readableBytesView) }
            case .end:
                break
            }
        }
    }
}

// MARK: random messages

/// A deterministic generator (SplitMix64), so a failure names an iteration that reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Mostly well-formed lines, each with a small chance of one of the irregularities that parsers disagree on.
private enum Pieces {
    static func lineEnd(_ random: inout SplitMix64) -> String {
        switch random.next() % 24 {
        case 0: return "\n"
        case 1: return "\r"
        default: return "\r\n"
        }
    }

    static func value(_ random: inout SplitMix64) -> String {
        let alphabet: [String] = ["a", "b", "1", " ", "\t", ",", ";", "=", "\"", "\u{0}", "\u{7f}", "é", "\r", "\n"]
        let count = Int.random(in: 0...6, using: &random)
        var value = ""
        for _ in 0..<count {
            value += random.next() % 10 == 0 ? alphabet.randomElement(using: &random)! : "v"
        }
        return value
    }

    static func name(_ random: inout SplitMix64) -> String {
        if random.next() % 8 != 0 { return ["X-A", "x-b", "Accept", "Cookie"].randomElement(using: &random)! }
        return ["X-A ", " X-A", "X A", "X:A", "X\u{0}A", ""].randomElement(using: &random)!
    }
}

private struct RandomRequest {
    var bytes: [UInt8] = []
    init(_ random: inout SplitMix64) {
        var head = ""
        if random.next() % 40 == 0 { head += "\r\n" }
        let method = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "get", "G ET"].randomElement(using: &random)!
        let target = ["/", "/a?b=c", "/p/q.css", "http://h/p", "*", "/x y", "/é", "/%20"].randomElement(
            using: &random)!
        let version = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "HTTP/2.0", "http/1.1"]
            .randomElement(using: &random)!
        let separator = random.next() % 30 == 0 ? "  " : " "
        head += method + separator + target + " " + version + Pieces.lineEnd(&random)
        var contentLength: Int?
        var chunked = false
        let fieldCount = Int.random(in: 0...6, using: &random)
        var fields: [(String, String)] = []
        if random.next() % 10 != 0 { fields.append(("Host", "h")) }
        for _ in 0..<fieldCount {
            switch random.next() % 10 {
            case 0:
                let value = ["0", "5", "05", " 5 ", "5, 5", "-1", "abc", "", "+5", "99999999999999999999"]
                    .randomElement(using: &random)!
                fields.append(("Content-Length", value))
                if let length = Int(value.trimmingCharacters(in: .whitespaces)), length >= 0, length < 100,
                    !value.hasPrefix("+")
                {
                    contentLength = length
                }
            case 1:
                let value = ["chunked", "gzip, chunked", "identity", "chunked "].randomElement(using: &random)!
                fields.append(("Transfer-Encoding", value))
                chunked = true
            case 2:
                fields.append(("Connection", ["close", "keep-alive", "foo", "Upgrade"].randomElement(using: &random)!))
            case 3:
                fields.append((["Expect", "Upgrade", "TE", "Keep-Alive"].randomElement(using: &random)!, "x"))
            case 4:
                fields.append(("Host", "h2"))
            default:
                fields.append((Pieces.name(&random), Pieces.value(&random)))
            }
        }
        for (name, value) in fields {
            let fold = random.next() % 50 == 0 ? "\r\n folded" : ""
            head += name + ":" + (random.next() % 3 == 0 ? "" : " ") + value + fold + Pieces.lineEnd(&random)
        }
        head += "\r\n"
        bytes = Array(head.utf8)
        if chunked {
            bytes += Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        } else if let contentLength {
            bytes += [UInt8](repeating: UInt8(ascii: "b"), count: contentLength)
        }
    }
}

private struct RandomResponse {
    var bytes: [UInt8] = []
    var isHEAD = false

    init(_ random: inout SplitMix64) {
        isHEAD = random.next() % 8 == 0
        var head = ""
        if random.next() % 20 == 0 { head += "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" }
        let status = [
            "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.0 200 OK",
            "HTTP/1.1 204 No Content",
            "HTTP/1.1 304 Not Modified", "HTTP/1.1 200", "HTTP/2 200", "HTTP/1.1 99 X", "HTTP/1.1 200 Ok\u{0}",
        ].randomElement(using: &random)!
        head += status + Pieces.lineEnd(&random)
        var contentLength: Int?
        var chunked = false
        let fieldCount = Int.random(in: 0...5, using: &random)
        var fields: [(String, String)] = []
        for _ in 0..<fieldCount {
            switch random.next() % 7 {
            case 0, 1:
                let length = Int.random(in: 0...20, using: &random)
                let value = [
                    "\(length)", "\(length)", "\(length), \(length)", "\(length), \(length + 1)", "0\(length)",
                    "-\(length)",
                    "", ",",
                ].randomElement(using: &random)!
                fields.append(("Content-Length", value))
                contentLength = length
            case 2:
                fields.append(
                    (
                        "Transfer-Encoding",
                        ["chunked", "chunked", "Chunked", "gzip, chunked", "gzip", "chunked, chunked"]
                            .randomElement(using: &random)!
                    ))
                chunked = true
            case 3:
                fields.append(("Connection", ["close", "keep-alive", "X-A"].randomElement(using: &random)!))
            default:
                fields.append((Pieces.name(&random), Pieces.value(&random)))
            }
        }
        for (name, value) in fields {
            head += name + ": " + value + Pieces.lineEnd(&random)
        }
        head += random.next() % 10 == 0 ? "\n" : "\r\n"
        bytes = Array(head.utf8)
        if isHEAD { return }
        if chunked {
            bytes += Self.chunkedBody(&random)
        } else if let contentLength {
            bytes += [UInt8](repeating: UInt8(ascii: "b"), count: contentLength)
        }
    }

    static func chunkedBody(_ random: inout SplitMix64) -> [UInt8] {
        var body = ""
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let size = Int.random(in: 1...12, using: &random)
            let sizeText = [
                String(size, radix: 16), String(size, radix: 16, uppercase: true), "0" + String(size, radix: 16),
            ].randomElement(using: &random)!
            let extensionText = random.next() % 6 == 0 ? ";a=b" : ""
            let declared = random.next() % 30 == 0 ? sizeText + "0" : sizeText
            body += declared + extensionText + Pieces.lineEnd(&random) + String(repeating: "c", count: size) + "\r\n"
        }
        body += "0" + Pieces.lineEnd(&random)
        if random.next() % 5 == 0 { body += "X-Trailer: 1" + Pieces.lineEnd(&random) }
        body += random.next() % 20 == 0 ? "\n" : "\r\n"
        return Array(body.utf8)
    }
}
