/// The bytes libxml2 reads: the page itself when it is clean UTF-8, otherwise a UTF-8 copy with
/// the same structure (NUL and invalid bytes become `?`, windows-1252 is transcoded) and a map
/// from its offsets back to page offsets.
///
/// libxml2 must never convert the input itself: it would then report positions in its converted
/// buffer, and on a bad UTF-8 byte 2.9.14 silently switches the rest of the input to ISO-8859-1.
struct ParseInput {
    /// nil when the page is parsed as it is.
    var copy: [UInt8]?
    /// For a transcoded page: parse offsets at which `extra[i]` more bytes than in the page have
    /// accumulated (sorted).
    private var expansionOffsets: [Int] = []
    private var extra: [Int] = []

    init(page: UnsafeBufferPointer<UInt8>, charset: PageCharset) {
        switch charset {
        case .utf8:
            guard var problem = UTF8Validation.firstProblem(page, from: 0) else {
                copy = nil
                return
            }
            var bytes = Array(page)
            while true {
                bytes[problem] = UInt8(ascii: "?")
                guard let next = UTF8Validation.firstProblem(page, from: problem + 1) else { break }
                problem = next
            }
            copy = bytes
        case .windows1252:
            var bytes: [UInt8] = []
            bytes.reserveCapacity(page.count + page.count / 8)
            var accumulated = 0
            for byte in page {
                if byte == 0 {
                    bytes.append(UInt8(ascii: "?"))
                } else if byte < 0x80 {
                    bytes.append(byte)
                } else {
                    let scalar = Unicode.Scalar(Windows1252.scalar(for: byte))!
                    let before = bytes.count
                    bytes.append(contentsOf: UTF8.encode(scalar)!)
                    accumulated += bytes.count - before - 1
                    expansionOffsets.append(bytes.count)
                    extra.append(accumulated)
                }
            }
            copy = bytes
        }
    }

    /// The page offset of a parse offset that falls on an ASCII byte or the end.
    func pageOffset(_ parseOffset: Int) -> Int {
        guard !expansionOffsets.isEmpty else { return parseOffset }
        // The last expansion at or before parseOffset.
        var low = 0
        var high = expansionOffsets.count
        while low < high {
            let middle = (low + high) / 2
            if expansionOffsets[middle] <= parseOffset { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? parseOffset : parseOffset - extra[low - 1]
    }
}
