import NIOCore

/// An origin's response head read in place by the pass-through path, with how its body is framed and what
/// the client is sent instead of it.
///
/// ```swift
/// switch ResponseHeadScan.scan(bytes, requestIsHEAD: false) {
/// case .incomplete: break  // wait for more bytes
/// case .malformed(let reason): print(reason)  // 502, the connection is not reused
/// case .complete(let head): print(head.status, head.framing)
/// }
/// ```
enum ResponseHeadScan: Equatable {
    case incomplete
    case malformed(String)
    case complete(ScannedResponseHead)

    /// The same limit as NIO's decoder on the codec path.
    static let maximumHeadBytes = 80 * 1024

    static func scan(_ bytes: [UInt8], requestIsHEAD: Bool) -> ResponseHeadScan {
        bytes.withUnsafeBytes { scan($0, requestIsHEAD: requestIsHEAD) }
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, requestIsHEAD: Bool) -> ResponseHeadScan {
        var storage: [ScannedResponseHead.Field] = []
        return scan(bytes, requestIsHEAD: requestIsHEAD, reusing: &storage)
    }

    /// As `scan(_:requestIsHEAD:)`, with the fields' array taken from `storage` and given back to it
    /// (`HeadFieldList`), so that a connection's heads reuse one array's storage.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, requestIsHEAD: Bool, reusing storage: inout [ScannedResponseHead.Field]
    ) -> ResponseHeadScan {
        var head = ScannedResponseHead()
        head.fields = HeadFieldList.take(from: &storage)
        defer { HeadFieldList.giveBack(head.fields, to: &storage) }
        var reader = HeadLineReader(bytes: bytes, limit: maximumHeadBytes, allowsBareLineFeed: true)
        guard let line = reader.nextLine() else {
            return reader.isBroken ? .malformed("a response head over \(maximumHeadBytes) bytes") : .incomplete
        }
        // HTTP/1.x SP 3DIGIT [SP reason]
        guard line.count >= 12, HTTPSyntax.matches(bytes, at: line.lowerBound, "HTTP/1."),
            bytes[line.lowerBound + 7] == UInt8(ascii: "1") || bytes[line.lowerBound + 7] == UInt8(ascii: "0"),
            bytes[line.lowerBound + 8] == UInt8(ascii: " "),
            let status = HTTPSyntax.decimal(bytes, line.lowerBound + 9..<line.lowerBound + 12), status >= 100,
            line.count == 12 || bytes[line.lowerBound + 12] == UInt8(ascii: " ")
        else { return .malformed("not an HTTP/1.x status line") }
        for index in line.lowerBound + 12..<line.upperBound where !HTTPSyntax.isFieldValueByte(bytes[index]) {
            return .malformed("a control byte in the status line")
        }
        guard status != 101 else { return .malformed("101 Switching Protocols, and no upgrade was asked for") }
        head.status = status
        head.statusText = line.lowerBound + 9..<line.upperBound
        let isHTTP10 = bytes[line.lowerBound + 7] == UInt8(ascii: "0")
        var closes = false
        var keepsAlive = false
        var chunked = false
        var otherCoding = false
        var contentLength: Int?
        var conflictingLength = false
        var nominated: [Range<Int>] = []
        while true {
            guard let line = reader.nextLine() else {
                return reader.isBroken ? .malformed("a response head over \(maximumHeadBytes) bytes") : .incomplete
            }
            if line.isEmpty { break }
            guard let field = HTTPSyntax.field(bytes, line: line) else {
                return .malformed("a field line that is not name: value")
            }
            let kind = ResponseFieldKind(bytes, name: field.name)
            switch kind {
            case .connection:
                HTTPSyntax.forEachListElement(bytes, field.value) { token in
                    if HTTPSyntax.equalsIgnoringCase(bytes, token, "close") {
                        closes = true
                    } else if HTTPSyntax.equalsIgnoringCase(bytes, token, "keep-alive") {
                        keepsAlive = true
                    } else {
                        nominated.append(token)
                    }
                }
            case .transferEncoding:
                HTTPSyntax.forEachListElement(bytes, field.value) { coding in
                    if chunked || !HTTPSyntax.equalsIgnoringCase(bytes, coding, "chunked") {
                        otherCoding = true
                    } else {
                        chunked = true
                    }
                }
            case .contentLength:
                var elements = 0
                HTTPSyntax.forEachListElement(bytes, field.value) { element in
                    elements += 1
                    guard let length = HTTPSyntax.decimal(bytes, element), contentLength ?? length == length else {
                        conflictingLength = true
                        return
                    }
                    contentLength = length
                }
                if elements == 0 { conflictingLength = true }
            case .hopByHop, .other:
                break
            }
            head.fields.append(
                ScannedResponseHead.Field(name: field.name, value: field.value, kind: kind, lineEnd: reader.position))
        }
        if !nominated.isEmpty {
            for index in head.fields.indices where head.fields[index].kind == .other {
                let name = head.fields[index].name
                if nominated.contains(where: { HTTPSyntax.equalsIgnoringCase(bytes, name, $0) }) {
                    head.fields[index].kind = .hopByHop
                }
            }
        }
        head.headLength = reader.position
        head.copiesLines = !reader.sawBareLineFeed
        head.contentLength = conflictingLength ? nil : contentLength
        head.keepsAlive = isHTTP10 ? keepsAlive && !closes : !closes
        if status < 200 {
            head.framing = .none
            head.isInformational = true
        } else if requestIsHEAD || status == 204 || status == 304 {
            head.framing = .none
        } else if chunked || otherCoding {
            // RFC 9112 §6.3: a coding other than a final chunked leaves the length to the close, which a
            // client could not tell from a complete page; refused rather than passed on.
            guard chunked, !otherCoding else { return .malformed("a transfer coding other than chunked") }
            head.framing = .chunked
        } else if conflictingLength {
            return .malformed("an invalid or conflicting Content-Length")
        } else if let contentLength {
            head.framing = .length(contentLength)
        } else {
            head.framing = .untilClose
            head.keepsAlive = false
        }
        return .complete(head)
    }
}

/// How a response's body ends.
enum BodyFraming: Equatable {
    /// No body: HEAD, 1xx, 204, 304.
    case none
    case length(Int)
    case chunked
    /// The origin closes the connection at the end; the client gets it chunked.
    case untilClose
}

/// A response head read from the origin's bytes; ranges index those bytes.
struct ScannedResponseHead: Equatable {
    struct Field: Equatable {
        var name: Range<Int>
        var value: Range<Int>
        var kind: ResponseFieldKind
        /// Just after the line's terminator.
        var lineEnd: Int
    }

    var headLength = 0
    var status = 0
    /// The code and reason phrase, as the origin wrote them.
    var statusText = 0..<0
    var isInformational = false
    var fields: [Field] = []
    var framing = BodyFraming.none
    /// The length the body is framed by; a repeated `Content-Length` (`5, 5`) reaches the client once.
    var contentLength: Int?
    /// Every line ended with CRLF, so kept lines can be copied as they are; otherwise each is rewritten.
    var copiesLines = true
    /// Whether the origin connection can carry another request after this response.
    var keepsAlive = true

    /// The most bytes `writeClientHead` writes: each kept line at most doubles (a bare LF line gets ": " and
    /// CRLF); the rest is fixed and short.
    var clientHeadMaximumLength: Int { 2 * headLength + 96 }

    /// Writes the head the client gets: HTTP/1.1, the origin's status and end-to-end fields, the framing the
    /// client needs, and `Connection: close` when this is the connection's last response.
    func writeClientHead(from bytes: UnsafeRawBufferPointer, closing: Bool, into buffer: inout ByteBuffer) {
        buffer.writeHead(maximumLength: clientHeadMaximumLength) { out in
            writeClientHead(from: bytes, closing: closing, into: &out)
        }
    }

    private func writeClientHead(from bytes: UnsafeRawBufferPointer, closing: Bool, into out: inout HeadOutput) {
        out.append("HTTP/1.1 ")
        out.append(UnsafeRawBufferPointer(rebasing: bytes[statusText]))
        out.append("\r\n")
        let chunkedToClient = framing == .chunked || framing == .untilClose
        var lengthWritten = false
        // Consecutive kept lines go out in one copy.
        var run: Range<Int>?
        func endRun() {
            if let kept = run { out.append(UnsafeRawBufferPointer(rebasing: bytes[kept])) }
            run = nil
        }
        for field in fields {
            switch field.kind {
            case .other where copiesLines:
                run = (run?.lowerBound ?? field.name.lowerBound)..<field.lineEnd
                continue
            case .other:
                out.append(UnsafeRawBufferPointer(rebasing: bytes[field.name]))
                out.append(": ")
                out.append(UnsafeRawBufferPointer(rebasing: bytes[field.value]))
                out.append("\r\n")
            case .contentLength:
                endRun()
                guard !chunkedToClient, !lengthWritten, let contentLength else { continue }
                lengthWritten = true
                out.append(UnsafeRawBufferPointer(rebasing: bytes[field.name]))
                out.append(": ")
                out.append(decimal: contentLength)
                out.append("\r\n")
            case .hopByHop, .connection, .transferEncoding:
                endRun()
            }
        }
        endRun()
        if chunkedToClient { out.append("Transfer-Encoding: chunked\r\n") }
        if closing, !isInformational { out.append("Connection: close\r\n") }
        out.append("\r\n")
    }
}

/// The response fields the pass-through path treats specially.
enum ResponseFieldKind: Equatable {
    case other
    case connection
    case contentLength
    case transferEncoding
    /// Never forwarded: the fixed hop-by-hop list and the names `Connection` lists.
    case hopByHop

    init(_ bytes: UnsafeRawBufferPointer, name: Range<Int>) {
        switch KnownFieldName(bytes, name: name) {
        case .connection: self = .connection
        case .contentLength: self = .contentLength
        case .transferEncoding: self = .transferEncoding
        case .te, .upgrade, .trailer, .keepAlive, .proxyConnection, .proxyAuthenticate, .proxyAuthorization:
            self = .hopByHop
        case .host, .expect, .forwardedFor, .forwardedHost, .forwardedProto, nil: self = .other
        }
    }
}
