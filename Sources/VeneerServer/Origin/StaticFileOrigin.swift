import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `file:` origin: serves one folder the way a careful static server does. No path leaves the folder
/// (`..`, encoded or not, and symlinks that point outside are refused), hidden files are not served,
/// directories serve their `index.html`, and answers carry a content type, `ETag` and `Last-Modified`
/// (`If-None-Match` answers 304). It speaks to the proxy exactly as an HTTP origin does, through an
/// `OriginResponseReceiver`, so the rest of the data path cannot tell the difference.
///
/// ```swift
/// let origin = StaticFileOrigin(root: "/srv/site")
/// origin.respond(to: head, context: fileContext, receiver: exchange)
/// ```
final class StaticFileOrigin: Sendable {
    let root: String

    init(root: String) {
        self.root = root
    }

    /// What the proxy lends the file origin for one answer.
    struct ResponseContext {
        var eventLoop: any EventLoop
        var threadPool: NIOThreadPool
        var allocator: ByteBufferAllocator
        /// Completes when the client can take more: download backpressure.
        var whenWritable: () -> EventLoopFuture<Void>
    }

    static let chunkSize = 64 * 1024
    static let wholeFileLimit = 1024 * 1024

    /// Answers one request through `receiver`, on `context.eventLoop`.
    func respond(to head: HTTPRequestHead, context: ResponseContext, receiver: any OriginResponseReceiver) {
        let eventLoop = context.eventLoop
        let boundReceiver = NIOLoopBound(receiver, eventLoop: eventLoop)
        guard head.method == .GET || head.method == .HEAD else {
            var headers = HTTPHeaders([("Allow", "GET, HEAD")])
            Self.deliverPlain(
                .methodNotAllowed, "Method Not Allowed\n", headers: &headers, head: head, context: context,
                receiver: receiver)
            return
        }
        let uri = head.uri
        let root = self.root
        context.threadPool.runIfActive(eventLoop: eventLoop) {
            try StaticFileResolver(root: root).resolve(uri: uri, wholeFileLimit: Self.wholeFileLimit)
        }.assumeIsolated().whenComplete { result in
            let receiver = boundReceiver.value
            switch result {
            case .failure:
                var headers = HTTPHeaders()
                Self.deliverPlain(
                    .internalServerError, "Internal Server Error\n", headers: &headers, head: head, context: context,
                    receiver: receiver)
            case .success(.notFound):
                var headers = HTTPHeaders()
                Self.deliverPlain(
                    .notFound, "Not Found\n", headers: &headers, head: head, context: context, receiver: receiver)
            case .success(.badRequest):
                var headers = HTTPHeaders()
                Self.deliverPlain(
                    .badRequest, "Bad Request\n", headers: &headers, head: head, context: context, receiver: receiver)
            case .success(.directoryWithoutSlash(let location)):
                var headers = HTTPHeaders([("Location", location)])
                Self.deliverPlain(
                    .movedPermanently, "Moved Permanently\n", headers: &headers, head: head, context: context,
                    receiver: receiver)
            case .success(.file(let file)):
                Self.deliver(file, head: head, context: context, receiver: receiver)
            }
        }
    }

    private static func deliver(
        _ file: StaticFileResolver.ResolvedFile, head: HTTPRequestHead, context: ResponseContext,
        receiver: any OriginResponseReceiver
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: StaticFileContentTypes.contentType(forPath: file.path))
        headers.add(name: "ETag", value: file.etag)
        headers.add(name: "Last-Modified", value: file.lastModified)
        if let ifNoneMatch = head.headers.first(name: "if-none-match"), Self.matches(ifNoneMatch, etag: file.etag) {
            receiver.originResponseHead(HTTPResponseHead(version: .http1_1, status: .notModified, headers: headers))
            receiver.originResponseEnd()
            return
        }
        headers.add(name: "Content-Length", value: String(file.size))
        receiver.originResponseHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
        if head.method == .HEAD || file.size == 0 {
            receiver.originResponseEnd()
            return
        }
        if let contents = file.contents {
            // The end flushes the body: the page must not be complete at the client before the end is handled.
            receiver.originResponseBody(contents)
            receiver.originResponseEnd()
            return
        }
        let reader = StaticFileChunkReader(path: file.path, size: file.size, context: context, receiver: receiver)
        reader.start()
    }

    /// `If-None-Match`: a list of entity tags or `*`; weak comparison (RFC 9110 §13.1.2).
    static func matches(_ header: String, etag: String) -> Bool {
        let wanted = etag.hasPrefix("W/") ? String(etag.dropFirst(2)) : etag
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingASCIISpaces()
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = String(tag.dropFirst(2)) }
            if tag == wanted { return true }
        }
        return false
    }

    private static func deliverPlain(
        _ status: HTTPResponseStatus, _ text: String, headers: inout HTTPHeaders, head: HTTPRequestHead,
        context: ResponseContext, receiver: any OriginResponseReceiver
    ) {
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        receiver.originResponseHead(HTTPResponseHead(version: .http1_1, status: status, headers: headers))
        if head.method != .HEAD {
            receiver.originResponseBody(context.allocator.buffer(string: text))
        }
        receiver.originResponseEnd()
    }
}

/// Streams a large file in chunks read on the thread pool, one chunk in flight, waiting for the client to
/// drain before reading the next.
private final class StaticFileChunkReader {
    private let path: String
    private let size: Int
    private let context: StaticFileOrigin.ResponseContext
    private weak var receiver: (any OriginResponseReceiver)?
    private var offset = 0
    private var descriptor: CInt = -1

    init(path: String, size: Int, context: StaticFileOrigin.ResponseContext, receiver: any OriginResponseReceiver) {
        self.path = path
        self.size = size
        self.context = context
        self.receiver = receiver
    }

    func start() {
        let path = self.path
        context.threadPool.runIfActive(eventLoop: context.eventLoop) { () throws -> CInt in
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw StaticFileError(message: "open failed: \(errno)") }
            return descriptor
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let descriptor):
                self.descriptor = descriptor
                self.readNext()
            case .failure:
                self.receiver?.originFailed(.reset)
            }
        }
    }

    private func readNext() {
        guard let receiver, offset < size else {
            finish()
            return
        }
        _ = receiver
        let descriptor = self.descriptor
        let offset = self.offset
        let length = min(StaticFileOrigin.chunkSize, size - offset)
        let allocator = context.allocator
        context.threadPool.runIfActive(eventLoop: context.eventLoop) { () throws -> ByteBuffer in
            var buffer = allocator.buffer(capacity: length)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { pointer in
                let count = pread(descriptor, pointer.baseAddress, length, off_t(offset))
                return max(0, count)
            }
            guard read > 0 else { throw StaticFileError(message: "short read") }
            return buffer
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let buffer):
                self.offset += buffer.readableBytes
                guard let receiver = self.receiver else {
                    self.closeDescriptor()
                    return
                }
                receiver.originResponseBody(buffer)
                if self.offset >= self.size {
                    // The last chunk goes out with the end (see `respond`).
                    self.finish()
                    return
                }
                receiver.originReadComplete()
                self.context.whenWritable().assumeIsolated().whenComplete { _ in self.readNext() }
            case .failure:
                self.closeDescriptor()
                self.receiver?.originFailed(.reset)
            }
        }
    }

    private func finish() {
        closeDescriptor()
        receiver?.originResponseEnd()
    }

    private func closeDescriptor() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }
}

struct StaticFileError: Error, Sendable {
    var message: String
}
