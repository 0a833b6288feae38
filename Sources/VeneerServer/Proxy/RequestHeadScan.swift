/// What the front of a client connection makes of the bytes at a request boundary: a bodiless GET or HEAD
/// it can forward as bytes, a request for NIO's HTTP/1 codec whose length it knows, or something it hands
/// to the codec for good.
///
/// The scan is deliberately stricter than the codec. Anything it does not read with certainty (a bare LF,
/// a folded line, a byte outside the grammar, `Transfer-Encoding`, a repeated `Content-Length`) hands the
/// connection over, so the two can never disagree about where a request ends.
///
/// ```swift
/// switch RequestHeadScan.scan(buffer.readableBytesView) {
/// case .incomplete: break  // wait for more bytes
/// case .passThrough(let request): print(request.headLength)
/// case .ordinary(let length), .lastOrdinary(let length): print(length)  // the codec reads exactly these bytes
/// case .handOver: break  // the codec reads everything from here
/// }
/// ```
enum RequestHeadScan: Equatable {
    case incomplete
    case passThrough(PassThroughRequest)
    case ordinary(length: Int)
    /// A request after which NIO's decoder reads nothing more (`Upgrade`, `CONNECT`): it spans `length`
    /// bytes, and the connection closes after its answer.
    case lastOrdinary(length: Int)
    case handOver

    /// Heads longer than this are the codec's to refuse.
    static let maximumHeadBytes = 64 * 1024

    static func scan(_ bytes: some Collection<UInt8>) -> RequestHeadScan {
        let scanned = bytes.withContiguousStorageIfAvailable { scan(UnsafeRawBufferPointer($0)) }
        return scanned ?? scan(Array(bytes))
    }

    static func scan(_ bytes: [UInt8]) -> RequestHeadScan {
        bytes.withUnsafeBytes { scan($0) }
    }

    static func scan(_ bytes: UnsafeRawBufferPointer) -> RequestHeadScan {
        var storage: [PassThroughRequest.Field] = []
        return scan(bytes, reusing: &storage)
    }

    /// As `scan(_:)`, with the fields' array taken from `storage` and given back to it (`HeadFieldList`), so that
    /// a connection's heads reuse one array's storage instead of allocating one each.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, reusing storage: inout [PassThroughRequest.Field]
    )
        -> RequestHeadScan
    {
        var request = PassThroughRequest()
        request.fields = HeadFieldList.take(from: &storage)
        defer { HeadFieldList.giveBack(request.fields, to: &storage) }
        var reader = HeadLineReader(bytes: bytes, limit: maximumHeadBytes)
        // Request line: method SP target SP HTTP/1.x
        guard let line = reader.nextLine() else { return reader.isBroken ? .handOver : incomplete(bytes) }
        let methodEnd = HTTPSyntax.tokenEnd(bytes, from: line.lowerBound, to: line.upperBound)
        guard methodEnd > line.lowerBound, methodEnd < line.upperBound, bytes[methodEnd] == UInt8(ascii: " ")
        else { return .handOver }
        let targetStart = methodEnd + 1
        var targetEnd = targetStart
        while targetEnd < line.upperBound, bytes[targetEnd] > 0x20, bytes[targetEnd] < 0x7F { targetEnd += 1 }
        guard targetEnd > targetStart, line.upperBound - targetEnd == 9, bytes[targetEnd] == UInt8(ascii: " "),
            HTTPSyntax.matches(bytes, at: targetEnd + 1, "HTTP/1.")
        else { return .handOver }
        let minor = bytes[line.upperBound - 1]
        guard minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0") else { return .handOver }

        request.method = line.lowerBound..<methodEnd
        request.target = targetStart..<targetEnd
        var eligible = minor == UInt8(ascii: "1") && bytes[targetStart] == UInt8(ascii: "/")
        let methodLength = methodEnd - line.lowerBound
        if methodLength == 3, HTTPSyntax.matches(bytes, at: line.lowerBound, "GET") {
            request.isHEAD = false
        } else if methodLength == 4, HTTPSyntax.matches(bytes, at: line.lowerBound, "HEAD") {
            request.isHEAD = true
        } else {
            eligible = false
        }
        var contentLength: Int?
        var hosts = 0
        // llhttp stops reading a connection after an upgrade request (CONNECT, or `Upgrade` with
        // `Connection: upgrade`); any `Upgrade` field counts here, which only closes a few more.
        var upgrades = methodLength == 7 && HTTPSyntax.matches(bytes, at: line.lowerBound, "CONNECT")
        while true {
            guard let line = reader.nextLine() else { return reader.isBroken ? .handOver : incomplete(bytes) }
            if line.isEmpty { break }
            guard let field = HTTPSyntax.field(bytes, line: line) else { return .handOver }
            let kind = RequestFieldKind(bytes, name: field.name)
            switch kind {
            case .transferEncoding:
                return .handOver
            case .contentLength:
                guard contentLength == nil, let length = HTTPSyntax.decimal(bytes, field.value) else {
                    return .handOver
                }
                contentLength = length
                eligible = false
            case .host:
                hosts += 1
            case .connection:
                if !HTTPSyntax.connectionTokens(bytes, field.value, close: &request.closeRequested) { eligible = false }
            case .upgrade:
                eligible = false
                upgrades = true
            case .expect:
                eligible = false
            default:
                break
            }
            if eligible {
                request.fields.append(
                    PassThroughRequest.Field(name: field.name, value: field.value, kind: kind, lineEnd: reader.position)
                )
            }
        }
        request.headLength = reader.position
        if eligible, hosts == 1 { return .passThrough(request) }
        let (total, overflow) = reader.position.addingReportingOverflow(contentLength ?? 0)
        if overflow { return .handOver }
        return upgrades ? .lastOrdinary(length: total) : .ordinary(length: total)
    }
}

extension RequestHeadScan {
    /// An unfinished head, unless it already holds a control byte that no head may hold (TLS or other binary
    /// sent to the plain port): the codec then refuses it at once instead of waiting for a line end.
    fileprivate static func incomplete(_ bytes: UnsafeRawBufferPointer) -> RequestHeadScan {
        for byte in bytes where HTTPSyntax.isForbiddenInHead(byte) { return .handOver }
        return .incomplete
    }

    /// Whether bytes that held no whole head up to `offset` are worth a scan now: they hold an empty line
    /// (LF LF or LF CR LF) that may end a head, a byte no head may hold (TLS sent to a plain port: the codec
    /// refuses it at once), or as many bytes as a head may have. Only bytes from `offset` on are read, so a
    /// head that arrives a byte at a time is not looked over once per byte.
    static func isWorthScanning(_ bytes: UnsafeRawBufferPointer, from offset: Int) -> Bool {
        let count = bytes.count
        if count >= maximumHeadBytes { return true }
        var index = offset
        while index < count {
            let byte = bytes[index]
            if byte == 0x0A {
                if index >= 1,
                    bytes[index - 1] == 0x0A || (bytes[index - 1] == 0x0D && index >= 2 && bytes[index - 2] == 0x0A)
                {
                    return true
                }
            } else if HTTPSyntax.isForbiddenInHead(byte) {
                return true
            }
            index += 1
        }
        return false
    }
}

/// A bodiless HTTP/1.1 GET or HEAD read from the client's bytes: ranges into the head, which starts at 0.
struct PassThroughRequest: Equatable {
    struct Field: Equatable {
        var name: Range<Int>
        /// Without the surrounding spaces.
        var value: Range<Int>
        var kind: RequestFieldKind
        /// Just after the line's CRLF: a run of kept lines is copied as it is.
        var lineEnd: Int
    }

    var headLength = 0
    var method = 0..<0
    var target = 0..<0
    var isHEAD = false
    /// `Connection: close`: the response is the connection's last.
    var closeRequested = false
    var fields: [Field] = []
}

/// The request fields the pass-through path treats specially, recognized once per field.
enum RequestFieldKind: Equatable {
    case other
    case host
    case connection
    /// Removed on the way: the fixed hop-by-hop names that do not change framing (`Keep-Alive`, `TE`,
    /// `Trailer`, `Proxy-*`).
    case hopByHop
    case contentLength
    case transferEncoding
    case upgrade
    case expect
    case forwardedFor
    case forwardedProto
    case forwardedHost

    init(_ bytes: UnsafeRawBufferPointer, name: Range<Int>) {
        switch KnownFieldName(bytes, name: name) {
        case .host: self = .host
        case .connection: self = .connection
        case .contentLength: self = .contentLength
        case .transferEncoding: self = .transferEncoding
        case .upgrade: self = .upgrade
        case .expect: self = .expect
        case .forwardedFor: self = .forwardedFor
        case .forwardedProto: self = .forwardedProto
        case .forwardedHost: self = .forwardedHost
        case .te, .trailer, .keepAlive, .proxyConnection, .proxyAuthenticate, .proxyAuthorization: self = .hopByHop
        case nil: self = .other
        }
    }
}
