#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EditableTag {
    /// The tag with `names` (escaped) added to its class list, built in one pass for the common
    /// case: a `class="…"` written just so, its value not ending in whitespace. The bytes are the
    /// ones `addClasses` and `bytes` produce; nil sends every other case that way.
    ///
    /// ```swift
    /// // <a class="btn cta" href="/x">  + ["green"]  →  <a class="btn cta green" href="/x">
    /// ```
    static func addingClasses(_ names: [[UInt8]], to tag: StartTag, in page: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard
            let attribute = tag.attributeIndex(named: Self.classAttributeName, in: page).map({ tag.attributes[$0] }),
            let quote = attribute.quote, let value = attribute.valueRange,
            value.lowerBound == attribute.nameRange.upperBound + 2,
            value.upperBound + 1 == attribute.tokenRange.upperBound,
            value.isEmpty || !isHTMLWhitespace(page[value.upperBound - 1]),
            !names.contains(where: { $0.contains(quote) })
        else { return nil }
        var added: [[UInt8]] = []
        for name in names where !hasClass(name, in: page, value) && !added.contains(name) {
            added.append(name)
        }
        var result: [UInt8] = []
        result.reserveCapacity(tag.end - tag.start + added.reduce(0) { $0 + $1.count + 1 })
        result.append(contentsOf: UnsafeBufferPointer(rebasing: page[tag.start..<value.upperBound]))
        var empty = value.isEmpty
        for name in added {
            if !empty { result.append(UInt8(ascii: " ")) }
            result.append(contentsOf: name)
            empty = false
        }
        result.append(contentsOf: UnsafeBufferPointer(rebasing: page[value.upperBound..<tag.end]))
        return result
    }

    /// Whether the whitespace-separated list at `value` holds `name`, read in place (no token array).
    private static func hasClass(_ name: [UInt8], in page: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> Bool {
        var index = value.lowerBound
        while index < value.upperBound {
            while index < value.upperBound, isHTMLWhitespace(page[index]) { index += 1 }
            let start = index
            while index < value.upperBound, !isHTMLWhitespace(page[index]) { index += 1 }
            if index > start, index - start == name.count,
                name.withUnsafeBufferPointer({ memcmp(page.baseAddress! + start, $0.baseAddress!, $0.count) == 0 })
            {
                return true
            }
        }
        return false
    }

    private static let classAttributeName = Array("class".utf8)
}
