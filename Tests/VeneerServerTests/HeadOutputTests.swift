import Foundation
import NIOCore
import Testing

@testable import VeneerServer

/// `HeadOutput` writes the pass-through path's heads into a buffer in one pass, within a bound the caller
/// computes; these tests check what it writes and that the bounds of the two heads hold for the heads that
/// grow the most.
@Suite("Head output")
struct HeadOutputTests {
    @Test("pieces of every kind land in order after what the buffer held, and the bound is not used up")
    func pieces() {
        var buffer = ByteBuffer(string: "before|")
        let bytes: [UInt8] = Array("raw".utf8)
        let expected = "literal raw text é ✓ 0,7,1234567890,\(Int.max)"
        buffer.writeHead(maximumLength: 64) { out in
            out.append("literal ")
            bytes.withUnsafeBytes { out.append($0) }
            out.append(" ")
            out.append(text: "text é ✓")
            out.append(UnsafeRawBufferPointer(start: nil, count: 0))
            out.append(" ")
            out.append(decimal: 0)
            out.append(",")
            out.append(decimal: 7)
            out.append(",")
            out.append(decimal: 1_234_567_890)
            out.append(",")
            out.append(decimal: Int.max)
            #expect(out.count == expected.utf8.count)
        }
        #expect(String(buffer: buffer) == "before|" + expected)
    }

    @Test("a bound met exactly is enough")
    func exactBound() {
        var buffer = ByteBuffer()
        buffer.writeHead(maximumLength: 4) { out in
            out.append("ab")
            out.append(decimal: 12)
        }
        #expect(String(buffer: buffer) == "ab12")
    }

    @Test("the client head of a response whose every line grows (bare LF, no space after the colon) fits its bound")
    func clientHeadGrowsWithinItsBound() throws {
        // 2,000 shortest lines: "a:b\n" becomes "a: b\r\n", and the length is rewritten with its digits.
        let lines = String(repeating: "a:b\n", count: 2000)
        let text = "HTTP/1.1 200 OK\ncontent-length:5\n" + lines + "\n"
        let bytes = Array(text.utf8)
        guard case .complete(let head) = ResponseHeadScan.scan(bytes, requestIsHEAD: false) else {
            Issue.record("not a complete head")
            return
        }
        #expect(!head.copiesLines)
        var buffer = ByteBuffer()
        bytes.withUnsafeBytes { head.writeClientHead(from: $0, closing: true, into: &buffer) }
        let written = String(buffer: buffer)
        #expect(buffer.readableBytes <= head.clientHeadMaximumLength)
        #expect(written.hasPrefix("HTTP/1.1 200 OK\r\ncontent-length: 5\r\na: b\r\na: b\r\n"))
        #expect(written.hasSuffix("a: b\r\nConnection: close\r\n\r\n"))
        #expect(written.components(separatedBy: "a: b\r\n").count == 2001)
    }
}
