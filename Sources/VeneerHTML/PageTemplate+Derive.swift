#if canImport(Glibc)
import Glibc
#endif

extension PageTemplate {
    /// One differing word: `oldStart..<oldEnd` in the template, `newStart..<newEnd` in the new page.
    struct Difference: Equatable {
        var oldStart: Int
        var oldEnd: Int
        var newStart: Int
        var newEnd: Int
        /// How much longer the new word is.
        var growth: Int { (newEnd - newStart) - (oldEnd - oldStart) }
    }

    /// At most this many differing words; more is a different page, not the same one with fresh tokens.
    static let maximumDifferences = 64

    /// Bytes of a nonce, token or id: letters, digits and `-_+/=.:`.
    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="),
            UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }

    /// What a parse of `page` would find, when `page` is this template with some words replaced inside inert
    /// spans; nil when it is not (then the page must be parsed).
    func derive(for page: UnsafeBufferPointer<UInt8>) -> ScanResult? {
        bytes.withUnsafeBufferPointer { old in
            guard let differences = Self.differences(old: old, new: page) else { return nil }
            if differences.isEmpty { return scan }
            for difference in differences where !isInert(difference, in: old) { return nil }
            return shifted(by: differences, checkedAgainst: page)
        }
    }

    /// The differing words, in page order; nil when the pages differ in anything but words.
    static func differences(
        old: UnsafeBufferPointer<UInt8>, new: UnsafeBufferPointer<UInt8>
    ) -> [Difference]? {
        var found: [Difference] = []
        var oldIndex = 0
        var newIndex = 0
        guard let oldBase = old.baseAddress, let newBase = new.baseAddress else {
            return old.count == new.count ? [] : nil
        }
        while true {
            let length = min(old.count - oldIndex, new.count - newIndex)
            var same = 0
            while same + 256 <= length, memcmp(oldBase + oldIndex + same, newBase + newIndex + same, 256) == 0 {
                same += 256
            }
            while same < length, old[oldIndex + same] == new[newIndex + same] { same += 1 }
            oldIndex += same
            newIndex += same
            if oldIndex == old.count, newIndex == new.count { return found }
            guard oldIndex < old.count, newIndex < new.count, isWordByte(old[oldIndex]), isWordByte(new[newIndex])
            else { return nil }
            // The word around the first differing byte: what precedes it is the same in both pages.
            var start = oldIndex
            while start > 0, isWordByte(old[start - 1]) { start -= 1 }
            let offset = newIndex - oldIndex
            var oldEnd = oldIndex
            while oldEnd < old.count, isWordByte(old[oldEnd]) { oldEnd += 1 }
            var newEnd = newIndex
            while newEnd < new.count, isWordByte(new[newEnd]) { newEnd += 1 }
            found.append(Difference(oldStart: start, oldEnd: oldEnd, newStart: start + offset, newEnd: newEnd))
            guard found.count <= maximumDifferences else { return nil }
            oldIndex = oldEnd
            newIndex = newEnd
        }
    }

    /// Whether the word lies inside one inert span, and not right after `&` or `#` (a character reference).
    private func isInert(
        _ difference: Difference, in old: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        if difference.oldStart > 0 {
            let before = old[difference.oldStart - 1]
            if before == UInt8(ascii: "&") || before == UInt8(ascii: "#") { return false }
        }
        // The last span that starts at or before the word.
        var low = 0
        var high = inertSpans.count
        while low < high {
            let middle = (low + high) / 2
            if inertSpans[middle].lowerBound <= difference.oldStart { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return false }
        let span = inertSpans[low - 1]
        return difference.oldStart >= span.lowerBound && difference.oldEnd <= span.upperBound
    }

    /// The template's findings moved to the new page's offsets, each boundary checked against its bytes.
    private func shifted(
        by differences: [Difference],
        checkedAgainst page: UnsafeBufferPointer<UInt8>
    ) -> ScanResult? {
        func moved(_ offset: Int) -> Int? {
            var growth = 0
            for difference in differences {
                if difference.oldEnd <= offset {
                    growth += difference.growth
                } else if difference.oldStart < offset {
                    return nil  // inside a word: no boundary is
                } else {
                    break
                }
            }
            return offset + growth
        }
        var result = scan
        for selector in result.elements.indices {
            for index in result.elements[selector].indices {
                let element = result.elements[selector][index]
                guard let startTagStart = moved(element.startTagStart), let startTagEnd = moved(element.startTagEnd),
                    let contentEnd = moved(element.contentEnd), let end = moved(element.end)
                else { return nil }
                let boundary = ElementBoundary(
                    startTagStart: startTagStart, startTagEnd: startTagEnd, contentEnd: contentEnd, end: end,
                    hasContent: element.hasContent)
                guard boundary.isConsistent(with: page) else { return nil }
                result.elements[selector][index] = boundary
            }
        }
        return result
    }
}
