import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An origin on 127.0.0.1 with no HTTP codec, for responses a real HTTP library will not produce: it reads
/// each request (a head up to the empty line, then a `Content-Length` or chunked body), records it, and
/// plays the bytes the test's script returns for it, then keeps the connection, closes it, resets it, or
/// goes silent.
final class ScriptedOrigin: Sendable {
    struct Request: Sendable {
        /// The head as received, without the final empty line.
        var head: String
        /// The request target without its query.
        var path: String
        /// The body, de-chunked when it came chunked.
        var body: [UInt8]
        /// The TCP connection it came on, numbered from 0 in accept order.
        var connection: Int
        /// Its position on that connection, from 0.
        var index: Int
    }

    struct Reply: Sendable {
        enum Ending: Sendable { case keepOpen, close, reset, silent }
        struct Part: Sendable {
            var delay: Duration
            var bytes: [UInt8]
        }
        var parts: [Part]
        var ending: Ending

        /// `texts` written one by one, `delay` before each but the first.
        static func writes(
            _ texts: [String], delay: Duration = .milliseconds(40), then ending: Ending = .keepOpen
        )
            -> Reply
        {
            let parts = texts.enumerated().map { Part(delay: $0 == 0 ? .zero : delay, bytes: Array($1.utf8)) }
            return Reply(parts: parts, ending: ending)
        }

        static func send(_ text: String, then ending: Ending = .keepOpen) -> Reply { writes([text], then: ending) }
        static func ok(_ body: String) -> Reply {
            send("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        static let silent = Reply(parts: [], ending: .silent)
    }

    private struct State {
        var requests: [Request] = []
        var received: [[UInt8]] = []
        var channels: [any Channel] = []
    }

    private let channel: any Channel
    private let state: NIOLockedValueBox<State>

    var port: Int { channel.localAddress!.port! }
    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { state.withLockedValue { $0.requests } }
    /// Request heads as received, in order.
    var heads: [String] { requests.map(\.head) }
    var connectionsAccepted: Int { state.withLockedValue { $0.received.count } }
    /// Everything received on connection `index`.
    func received(connection index: Int) -> String {
        String(decoding: state.withLockedValue { $0.received[index] }, as: UTF8.self)
    }

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    static func start(_ script: @escaping @Sendable (Request) -> Reply) async throws -> ScriptedOrigin {
        let state = NIOLockedValueBox(State())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.withLockedValue {
                    $0.received.append([])
                    $0.channels.append(channel)
                    return $0.received.count - 1
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(connection: number, state: state, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedOrigin(channel: channel, state: state)
    }

    func stop() async {
        try? await channel.close()
        for child in state.withLockedValue({ $0.channels }) { try? await child.close() }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let connection: Int
        let state: NIOLockedValueBox<State>
        let script: @Sendable (Request) -> Reply
        private var pending: [UInt8] = []
        private var index = 0
        private var busy = false

        init(connection: Int, state: NIOLockedValueBox<State>, script: @escaping @Sendable (Request) -> Reply) {
            self.connection = connection
            self.state = state
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            state.withLockedValue { $0.received[connection].append(contentsOf: bytes) }
            pending += bytes
            answerPending(context: context)
        }

        private func answerPending(context: ChannelHandlerContext) {
            guard !busy, let headEnd = HTTPText.headEnd(pending) else { return }
            let head = String(decoding: pending[..<(headEnd - 4)], as: UTF8.self)
            let fields = head.lowercased().split(separator: "\r\n")
            var body: [UInt8] = []
            var consumed = headEnd
            if fields.contains(where: { $0.hasPrefix("transfer-encoding:") && $0.contains("chunked") }) {
                guard let decoded = HTTPText.dechunk(pending[headEnd...]) else { return }
                (body, consumed) = (decoded.body, headEnd + decoded.length)
            } else if let line = fields.first(where: { $0.hasPrefix("content-length:") }),
                let length = Int(line.dropFirst(15).filter { $0 != " " })
            {
                guard pending.count >= headEnd + length else { return }
                (body, consumed) = (Array(pending[headEnd..<headEnd + length]), headEnd + length)
            }
            pending.removeFirst(consumed)
            let target = head.split(separator: " ", maxSplits: 2).dropFirst().first ?? ""
            let request = Request(
                head: head, path: String(target.prefix { $0 != "?" }), body: body, connection: connection, index: index)
            index += 1
            state.withLockedValue { $0.requests.append(request) }
            busy = true
            play(script(request), from: 0, context: context)
        }

        private func play(_ reply: Reply, from part: Int, context: ChannelHandlerContext) {
            guard part < reply.parts.count else {
                finish(reply.ending, context: context)
                return
            }
            let loop = context.eventLoop.assumeIsolated()
            let write = {
                let buffer = context.channel.allocator.buffer(bytes: reply.parts[part].bytes)
                context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
                self.play(reply, from: part + 1, context: context)
            }
            if reply.parts[part].delay == .zero {
                write()
            } else {
                loop.scheduleTask(in: TimeAmount(reply.parts[part].delay), write)
            }
        }

        private func finish(_ ending: Reply.Ending, context: ChannelHandlerContext) {
            switch ending {
            case .keepOpen:
                busy = false
                answerPending(context: context)
            case .close:
                context.close(promise: nil)
            case .reset:
                let provider = context.channel as? any SocketOptionProvider
                provider?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            case .silent:
                break
            }
        }
    }
}

/// Byte helpers shared by the scripted origin and the tests that read raw responses.
enum HTTPText {
    /// The index just past the first CRLFCRLF, or nil.
    static func headEnd(_ bytes: some Collection<UInt8>) -> Int? {
        let array = Array(bytes)
        guard array.count >= 4 else { return nil }
        for index in 0...(array.count - 4)
        where array[index] == 13 && array[index + 1] == 10 && array[index + 2] == 13 && array[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    /// A chunked body (extensions and trailers skipped): its data and how many bytes it took, or nil when
    /// the bytes end first or break the format.
    static func dechunk(_ bytes: some Collection<UInt8>) -> (body: [UInt8], length: Int)? {
        let array = Array(bytes)
        var body: [UInt8] = []
        var position = 0
        func line() -> String? {
            var end = position
            while end + 1 < array.count, !(array[end] == 13 && array[end + 1] == 10) { end += 1 }
            guard end + 1 < array.count else { return nil }
            defer { position = end + 2 }
            return String(decoding: array[position..<end], as: UTF8.self)
        }
        while true {
            guard let sizeLine = line() else { return nil }
            guard let size = Int(sizeLine.prefix { $0 != ";" && $0 != " " }, radix: 16) else { return nil }
            if size == 0 { break }
            guard array.count >= position + size + 2 else { return nil }
            body += array[position..<position + size]
            position += size + 2
        }
        while let trailer = line() {
            if trailer.isEmpty { return (body, position) }
        }
        return nil
    }
}
