import CZlib

/// Encoders for test pages. Brotli: a valid stream of uncompressed meta-blocks (RFC 7932 §9.2), decoded by
/// the real libbrotli decoder in the proxy; zlib: a real zlib stream from the system library.
enum TestCompression {
    static func zlibDeflate(_ input: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = compress(&output, &length, input, uLong(input.count))
        precondition(status == Z_OK)
        return Array(output[0..<Int(length)])
    }

    static func brotliUncompressedMetaBlocks(_ input: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.write(0, bits: 1)  // WBITS: 16
        var offset = 0
        while offset < input.count {
            let length = min(65536, input.count - offset)
            writer.write(0, bits: 1)  // ISLAST
            writer.write(0, bits: 2)  // MNIBBLES = 4
            writer.write(UInt64(length - 1), bits: 16)  // MLEN - 1
            writer.write(1, bits: 1)  // ISUNCOMPRESSED
            writer.alignToByte()
            writer.bytes.append(contentsOf: input[offset..<(offset + length)])
            offset += length
        }
        writer.write(1, bits: 1)  // ISLAST
        writer.write(1, bits: 1)  // ISLASTEMPTY
        writer.alignToByte()
        return writer.bytes
    }

    private struct BitWriter {
        var bytes: [UInt8] = []
        var bitCount = 0

        mutating func write(_ value: UInt64, bits: Int) {
            for index in 0..<bits {
                if bitCount % 8 == 0 { bytes.append(0) }
                if (value >> UInt64(index)) & 1 == 1 { bytes[bytes.count - 1] |= UInt8(1 << (bitCount % 8)) }
                bitCount += 1
            }
        }

        mutating func alignToByte() {
            bitCount = bytes.count * 8
        }
    }
}
