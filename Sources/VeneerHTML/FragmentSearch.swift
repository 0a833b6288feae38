import CLibXML2

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds the text a selector requires (an id, a class name, an attribute value) in the parse
/// input as libxml2 will read it: verbatim, or spelled with character references inside an
/// attribute value (`id="h&#101;ro"` is the id `hero` once libxml2 has decoded it).
///
/// The byte pre-check and the early stop are only sound if this finds every place libxml2 can
/// decode to the fragment, so the decoding follows libxml2 2.9.14's attribute rules: numeric
/// references `&#101;` and `&#x65;` with or without the `;`, and named references it knows
/// (`&eacute;`, `;` required). Anything else is compared byte for byte.
///
/// ```swift
/// var search = FragmentSearch(page: bytes)
/// search.occurs(Array("hero".utf8))  // true for `id="hero"` and for `id="h&#101;ro"`
/// ```
struct FragmentSearch {
    private let page: UnsafeBufferPointer<UInt8>
    /// Offsets of every `&` (memchr finds them at a tenth of an instruction a byte), found on
    /// first need, and of those that begin a numeric reference (`&#`).
    private var ampersands: [Int]?
    private var numericReferences: [Int]?

    init(page: UnsafeBufferPointer<UInt8>) {
        self.page = page
    }

    /// Whether `fragment` occurs, verbatim or encoded.
    mutating func occurs(_ fragment: [UInt8]) -> Bool {
        if ByteSearch.first(fragment, in: page) != nil { return true }
        for reference in candidates(for: fragment) where !encodedOccurrences(of: fragment, around: reference).isEmpty {
            return true
        }
        return false
    }

    /// The offset of the last occurrence of `fragment`, verbatim or encoded, if one starts after
    /// `bound`; only the bytes after `bound` are searched.
    mutating func last(_ fragment: [UInt8], after bound: Int = -1) -> Int? {
        var last = ByteSearch.last(fragment, in: page, notBefore: bound + 1)
        for reference in candidates(for: fragment) where reference > bound {
            for start in encodedOccurrences(of: fragment, around: reference) where start > max(bound, last ?? -1) {
                last = start
            }
        }
        return last
    }

    /// The `&` offsets at which an encoded occurrence of `fragment` may hold its first reference.
    private mutating func candidates(for fragment: [UInt8]) -> [Int] {
        guard !fragment.isEmpty else { return [] }
        // Named references decode to non-ASCII characters and to `"`, `&`, `<`, `>`, `'` only.
        let namedPossible = fragment.contains {
            $0 >= 0x80 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: "<")
                || $0 == UInt8(ascii: ">")
                || $0 == UInt8(ascii: "'")
        }
        if ampersands == nil {
            var found: [Int] = []
            var start = 0
            while start < page.count, let next = ByteSearch.first(Self.ampersand, in: page, from: start) {
                found.append(next)
                start = next + 1
            }
            ampersands = found
        }
        if namedPossible { return ampersands! }
        if numericReferences == nil {
            numericReferences = ampersands!.filter { $0 + 1 < page.count && page[$0 + 1] == UInt8(ascii: "#") }
        }
        return numericReferences!
    }

    private static let ampersand: [UInt8] = [UInt8(ascii: "&")]

    /// Starts of occurrences that use the reference at `reference` and are plain bytes before it.
    private func encodedOccurrences(of fragment: [UInt8], around reference: Int) -> [Int] {
        var starts: [Int] = []
        var start = max(0, reference - (fragment.count - 1))
        while start <= reference {
            if matchesDecoded(fragment, from: start) { starts.append(start) }
            start += 1
        }
        return starts
    }

    /// Whether the bytes from `start`, with references decoded, begin with `fragment` (and use at
    /// least one reference: verbatim occurrences are memmem's).
    private func matchesDecoded(_ fragment: [UInt8], from start: Int) -> Bool {
        var index = start
        var matched = 0
        var usedReference = false
        while matched < fragment.count {
            guard index < page.count else { return false }
            if page[index] == UInt8(ascii: "&"), let (scalar, next) = decodeReference(at: index) {
                // A reference libxml2 decodes can only match through its decoded value.
                guard let value = Unicode.Scalar(scalar) else { return false }
                for byte in UTF8.encode(value)! {
                    guard matched < fragment.count, fragment[matched] == byte else { return false }
                    matched += 1
                }
                index = next
                usedReference = true
            } else {
                guard page[index] == fragment[matched] else { return false }
                index += 1
                matched += 1
            }
        }
        return usedReference
    }

    /// The code point of the reference at `offset` and the offset after it, as libxml2's
    /// `htmlParseHTMLAttribute` decodes it; nil where it copies the bytes as they are.
    /// An invalid numeric value decodes to 0, which no fragment contains.
    private func decodeReference(at offset: Int) -> (UInt32, Int)? {
        var index = offset + 1
        guard index < page.count else { return nil }
        if page[index] == UInt8(ascii: "#") {
            index += 1
            var value: UInt32 = 0
            let hexadecimal = index < page.count && (page[index] | 0x20) == UInt8(ascii: "x")
            if hexadecimal { index += 1 }
            while index < page.count, page[index] != UInt8(ascii: ";") {
                let byte = page[index]
                let digit: UInt32
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    digit = UInt32(byte - UInt8(ascii: "0"))
                } else if hexadecimal, (byte | 0x20) >= UInt8(ascii: "a"), (byte | 0x20) <= UInt8(ascii: "f") {
                    digit = UInt32((byte | 0x20) - UInt8(ascii: "a")) + 10
                } else {
                    break
                }
                if value < 0x110000 { value = value * (hexadecimal ? 16 : 10) + digit }
                index += 1
            }
            if index < page.count, page[index] == UInt8(ascii: ";") { index += 1 }
            return (Self.isXMLCharacter(value) ? value : 0, index)
        }
        // A named reference: a name, then `;`, then a name libxml2's HTML 4 table knows.
        let nameStart = index
        guard isASCIILetter(page[index]) || page[index] == UInt8(ascii: "_") || page[index] == UInt8(ascii: ":") else {
            return nil
        }
        while index < page.count, index - nameStart < 64,
            isASCIILetter(page[index]) || (page[index] >= UInt8(ascii: "0") && page[index] <= UInt8(ascii: "9"))
        {
            index += 1
        }
        guard index < page.count, page[index] == UInt8(ascii: ";") else { return nil }
        var name = Array(page[nameStart..<index])
        name.append(0)
        guard let entity = name.withUnsafeBufferPointer({ htmlEntityLookup($0.baseAddress) }) else { return nil }
        return (UInt32(entity.pointee.value), index + 1)
    }

    /// libxml2's `IS_CHAR`.
    private static func isXMLCharacter(_ value: UInt32) -> Bool {
        value == 0x9 || value == 0xA || value == 0xD || (0x20...0xD7FF).contains(value)
            || (0xE000...0xFFFD).contains(value)
            || (0x10000...0x10FFFF).contains(value)
    }
}
