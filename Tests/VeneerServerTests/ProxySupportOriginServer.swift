import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

@testable import VeneerServer

/// A small real HTTP/1.1 origin on 127.0.0.1 for the proxy tests. Paths choose the behaviour:
/// `/echo` (the request as text), `/bytes/N` (N bytes, streamed with backpressure), `/upload` (counts the
/// body), `/slow/MS`, `/reset`, `/cookies`, `/redirect`, `/status/N`, `/hop`, and HTML pages from `pages`.
final class TestOriginServer: Sendable {
    struct Page: Sendable {
        var body: String
        /// "gzip", "deflate", "br" or nil.
        var encoding: String? = nil
        var contentType = "text/html; charset=utf-8"
        var headers: [(String, String)] = []
    }

    let channel: any Channel
    let recorded: NIOLockedValueBox<[HTTPRequestHead]>
    let pages: NIOLockedValueBox<[String: Page]>
    let isTLS: Bool

    var port: Int { channel.localAddress!.port! }
    var url: String { "\(isTLS ? "https" : "http")://127.0.0.1:\(port)" }

    /// Heads of the requests received so far, oldest first.
    var requests: [HTTPRequestHead] { recorded.withLockedValue { $0 } }

    private init(
        channel: any Channel, recorded: NIOLockedValueBox<[HTTPRequestHead]>, pages: NIOLockedValueBox<[String: Page]>,
        isTLS: Bool
    ) {
        self.channel = channel
        self.recorded = recorded
        self.pages = pages
        self.isTLS = isTLS
    }

    /// `tls`: serve https with this server context.
    static func start(pages: [String: Page] = [:], tls: NIOSSLContext? = nil) async throws -> TestOriginServer {
        let recorded = NIOLockedValueBox<[HTTPRequestHead]>([])
        let pageBox = NIOLockedValueBox(pages)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        TestOriginHandler(recorded: recorded, pages: pageBox))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestOriginServer(channel: channel, recorded: recorded, pages: pageBox, isTLS: tls != nil)
    }

    func setPage(_ path: String, _ page: Page) {
        pages.withLockedValue { $0[path] = page }
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class TestOriginHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let recorded: NIOLockedValueBox<[HTTPRequestHead]>
    let pages: NIOLockedValueBox<[String: TestOriginServer.Page]>
    private var head: HTTPRequestHead?
    private var uploaded = 0
    private var remainingToSend = 0
    private var streaming = false

    init(recorded: NIOLockedValueBox<[HTTPRequestHead]>, pages: NIOLockedValueBox<[String: TestOriginServer.Page]>) {
        self.recorded = recorded
        self.pages = pages
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            uploaded = 0
            recorded.withLockedValue { $0.append(head) }
            if head.uri.hasPrefix("/reset") {
                context.close(promise: nil)
            }
        case .body(let buffer):
            uploaded += buffer.readableBytes
        case .end:
            guard let head else { return }
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let segments = path.split(separator: "/").map(String.init)
        switch segments.first {
        case "echo":
            var text = "\(head.method.rawValue) \(head.uri)\n"
            for (name, value) in head.headers { text += "\(name.lowercased()): \(value)\n" }
            text += "body-bytes: \(uploaded)\n"
            send(context, status: .ok, headers: [("Content-Type", "text/plain")], body: text)
        case "upload", "expect":
            send(context, status: .ok, headers: [("Content-Type", "text/plain")], body: "received=\(uploaded)")
        case "bytes":
            let count = segments.count > 1 ? Int(segments[1]) ?? 0 : 0
            let headers = HTTPHeaders([("Content-Type", "application/octet-stream"), ("Content-Length", String(count))])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            remainingToSend = count
            streaming = true
            sendMore(context: context)
        case "slow":
            let milliseconds = segments.count > 1 ? Int64(segments[1]) ?? 0 : 0
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                bound.value.handler.send(
                    bound.value.context, status: .ok, headers: [("Content-Type", "text/plain")], body: "slow")
            }
        case "cookies":
            send(
                context, status: .ok,
                headers: [
                    ("Content-Type", "text/plain"), ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/"),
                    ("Set-Cookie", "c=3; HttpOnly"),
                ],
                body: "cookies")
        case "redirect":
            send(context, status: .found, headers: [("Location", "/elsewhere")], body: "")
        case "status":
            let code = segments.count > 1 ? Int(segments[1]) ?? 500 : 500
            send(
                context, status: HTTPResponseStatus(statusCode: code), headers: [("Content-Type", "text/plain")],
                body: code == 204 || code == 304 ? "" : "status \(code)")
        case "hop":
            send(
                context, status: .ok,
                headers: [
                    ("Content-Type", "text/plain"), ("Connection", "X-Origin-Hop"), ("X-Origin-Hop", "secret"),
                    ("Keep-Alive", "timeout=5"), ("Proxy-Authenticate", "Basic"), ("X-End-To-End", "yes"),
                ],
                body: "hop")
        default:
            guard let page = pages.withLockedValue({ $0[path] }) else {
                send(context, status: .notFound, headers: [("Content-Type", "text/plain")], body: "no such page")
                return
            }
            var body = Array(page.body.utf8)
            var headers: [(String, String)] = [("Content-Type", page.contentType)] + page.headers
            switch page.encoding {
            case "gzip":
                body = try! ContentCoding.gzip(body)
                headers.append(("Content-Encoding", "gzip"))
            case "deflate":
                body = TestCompression.zlibDeflate(body)
                headers.append(("Content-Encoding", "deflate"))
            case "br":
                body = TestCompression.brotliUncompressedMetaBlocks(body)
                headers.append(("Content-Encoding", "br"))
            default:
                break
            }
            send(context, status: .ok, headers: headers, bytes: body, isHead: head.method == .HEAD)
        }
    }

    private func send(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: [(String, String)], body: String
    ) {
        send(context, status: status, headers: headers, bytes: Array(body.utf8), isHead: head?.method == .HEAD)
    }

    private func send(
        _ context: ChannelHandlerContext, status: HTTPResponseStatus, headers: [(String, String)], bytes: [UInt8],
        isHead: Bool
    ) {
        var httpHeaders = HTTPHeaders(headers)
        if !status.forbidsBody { httpHeaders.replaceOrAdd(name: "Content-Length", value: String(bytes.count)) }
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: httpHeaders))),
            promise: nil)
        if !bytes.isEmpty, !isHead {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func sendMore(context: ChannelHandlerContext) {
        let chunk = 64 * 1024
        while streaming, remainingToSend > 0, context.channel.isWritable {
            let size = min(chunk, remainingToSend)
            var buffer = context.channel.allocator.buffer(capacity: size)
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size)
            remainingToSend -= size
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if streaming, remainingToSend == 0 {
            streaming = false
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { sendMore(context: context) }
        context.fireChannelWritabilityChanged()
    }
}
