import CBrotli
import CZlib

/// Decodes `gzip`, `deflate` and `br` bodies and encodes `gzip`, for pages that are rewritten. Whole
/// buffers: only pages under `max_html_bytes` come here, and decoding stops past that size (a zip bomb is
/// refused, not inflated).
///
/// ```swift
/// let page = try ContentCoding.decode(body, encoding: "gzip", limit: 8 << 20)
/// let wire = try ContentCoding.gzip(page)
/// ```
enum ContentCoding {
    struct CodingError: Error, Sendable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Whether the proxy can decode a `Content-Encoding` value (after lower-casing and trimming).
    static func canDecode(_ encoding: String) -> Bool {
        ["", "identity", "gzip", "x-gzip", "deflate", "br"].contains(encoding)
    }

    /// A `Content-Encoding` value (lower-cased, trimmed) that means the bytes are the page itself.
    static func isIdentity(_ encoding: String) -> Bool {
        encoding.isEmpty || encoding == "identity"
    }

    static func decode(_ bytes: [UInt8], encoding: String, limit: Int) throws(CodingError) -> [UInt8] {
        switch encoding {
        case "", "identity":
            return bytes
        case "gzip", "x-gzip":
            return try inflate(bytes, windowBits: 15 + 16, limit: limit)
        case "deflate":
            // RFC 9110 says zlib-wrapped; some servers send raw deflate. Try both.
            do {
                return try inflate(bytes, windowBits: 15, limit: limit)
            } catch {
                return try inflate(bytes, windowBits: -15, limit: limit)
            }
        case "br":
            return try brotliDecode(bytes, limit: limit)
        default:
            throw CodingError(message: "unsupported content-encoding \(encoding)")
        }
    }

    static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int) throws(CodingError) -> [UInt8] {
        var stream = z_stream()
        guard veneer_inflate_init2(&stream, windowBits) == Z_OK else {
            throw CodingError(message: "inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        output.reserveCapacity(min(limit, max(input.count * 4, 4096)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var mutableInput = input
        let result: Result<Void, CodingError> = mutableInput.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = uInt(chunkBuffer.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return chunkBuffer.count - Int(stream.avail_out)
                }
                if status != Z_OK && status != Z_STREAM_END && !(status == Z_BUF_ERROR && produced > 0) {
                    return .failure(CodingError(message: "inflate failed (\(status))"))
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { return .failure(CodingError(message: "decoded page over the size cap")) }
                if produced == 0 && status != Z_STREAM_END && stream.avail_in == 0 {
                    return .failure(CodingError(message: "truncated compressed body"))
                }
            } while status != Z_STREAM_END
            return .success(())
        }
        try result.get()
        return output
    }

    static func brotliDecode(_ input: [UInt8], limit: Int) throws(CodingError) -> [UInt8] {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            throw CodingError(message: "brotli decoder unavailable")
        }
        defer { BrotliDecoderDestroyInstance(state) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let result: Result<Void, CodingError> = input.withUnsafeBufferPointer { inputBuffer in
            var availableIn = inputBuffer.count
            var nextIn = inputBuffer.baseAddress
            while true {
                var decoderResult = BROTLI_DECODER_RESULT_ERROR
                let produced: Int = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    var availableOut = chunkBuffer.count
                    var nextOut = chunkBuffer.baseAddress
                    decoderResult = BrotliDecoderDecompressStream(
                        state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
                    return chunkBuffer.count - availableOut
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { return .failure(CodingError(message: "decoded page over the size cap")) }
                switch decoderResult {
                case BROTLI_DECODER_RESULT_SUCCESS:
                    return .success(())
                case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                    continue
                case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                    return .failure(CodingError(message: "truncated brotli body"))
                default:
                    return .failure(CodingError(message: "brotli decoding failed"))
                }
            }
        }
        try result.get()
        return output
    }

    /// gzip at level 5: most of level 9's ratio on HTML at a fraction of its time.
    static func gzip(_ input: [UInt8], level: Int32 = 5) throws(CodingError) -> [UInt8] {
        var stream = z_stream()
        guard veneer_deflate_init2(&stream, level, 15 + 16) == Z_OK else {
            throw CodingError(message: "deflateInit failed")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound + 32)
        var mutableInput = input
        let status: Int32 = mutableInput.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw CodingError(message: "deflate failed (\(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Whether an `Accept-Encoding` value admits gzip (a `q=0` refuses it).
    static func acceptsGzip(_ acceptEncoding: [String]) -> Bool {
        for value in acceptEncoding {
            for item in value.split(separator: ",") {
                let parts = item.split(separator: ";")
                guard let coding = parts.first?.trimmingASCIISpaces().lowercased(),
                    coding == "gzip" || coding == "x-gzip" || coding == "*"
                else { continue }
                let refused = parts.dropFirst().contains { parameter in
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingASCIISpaces().lowercased() == "q" else { return false }
                    return (Double(pair[1].trimmingASCIISpaces()) ?? 1) == 0
                }
                if !refused { return true }
            }
        }
        return false
    }
}
