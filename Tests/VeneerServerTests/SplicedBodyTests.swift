import NIOCore
import Testing

@testable import VeneerHTML
@testable import VeneerServer

/// A spliced page goes out as few parts: long runs of the origin's buffer as slices, everything short copied
/// together. The bytes must be the page with its edits applied, whatever the edits.
@Suite("Spliced page bodies")
struct SplicedBodyTests {
    static func applied(_ edits: [SplicedEdit], to page: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        var cursor = 0
        for edit in edits {
            result += page[cursor..<edit.range.lowerBound]
            result += edit.replacement
            cursor = edit.range.upperBound
        }
        return result + page[cursor...]
    }

    @Test("three edits near the top of a 100 KB page: two parts, the second a slice of the page")
    func editsNearTheTop() {
        let page = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        var buffer = ByteBufferAllocator().buffer(capacity: page.count + 10)
        buffer.writeString("skipped!!!")
        buffer.moveReaderIndex(forwardBy: 10)
        buffer.writeBytes(page)
        let edits = [
            SplicedEdit(range: 100..<140, replacement: Array("<h1>Welcome back</h1>".utf8), changeIndex: 0),
            SplicedEdit(range: 900..<900, replacement: Array(" cta--green".utf8), changeIndex: 1),
            SplicedEdit(range: 1500..<1502, replacement: Array("79".utf8), changeIndex: 2),
        ]
        let parts = ProxyHandler.splice(edits, into: buffer, allocator: ByteBufferAllocator())
        #expect(parts.count == 2)
        #expect(parts.last?.readableBytes == page.count - 1502)
        #expect(parts.flatMap { Array($0.readableBytesView) } == Self.applied(edits, to: page))
    }

    @Test("random pages and edits: the parts hold the edited page, and no two short parts sit side by side")
    func randomEdits() {
        var random = SplitMix64(seed: 0x5B1C_E000)
        for _ in 0..<300 {
            let size = Int(random.next() % 80_000)
            let page = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var edits: [SplicedEdit] = []
            var cursor = 0
            while cursor < size, random.next() % 5 != 0 {
                let start = cursor + Int(random.next() % UInt64(max(1, min(size - cursor, 30_000))))
                let end = min(size, start + Int(random.next() % 64))
                let replacement = (0..<Int(random.next() % 40)).map { _ in UInt8(ascii: "x") }
                edits.append(SplicedEdit(range: start..<end, replacement: replacement, changeIndex: edits.count))
                cursor = end
            }
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            buffer.writeBytes(page)
            let parts = ProxyHandler.splice(edits, into: buffer, allocator: ByteBufferAllocator())
            #expect(parts.flatMap { Array($0.readableBytesView) } == Self.applied(edits, to: page))
            #expect(parts.allSatisfy { $0.readableBytes > 0 })
            let shortest = ProxyHandler.shortestSlice
            for (left, right) in zip(parts, parts.dropFirst()) {
                #expect(left.readableBytes >= shortest || right.readableBytes >= shortest)
            }
        }
    }
}
