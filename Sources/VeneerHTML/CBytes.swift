import VeneerCore

/// Comparisons between libxml2's NUL-terminated UTF-8 strings and compiled selector text.
enum CBytes {
    nonisolated(unsafe) static let empty: UnsafeMutablePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        pointer.initialize(to: 0)
        return pointer
    }()

    @inline(__always)
    static func equal(_ string: UnsafePointer<UInt8>, _ expected: SelectorProgram.Bytes) -> Bool {
        for index in 0..<expected.count where string[index] != expected.pointer[index] { return false }
        return string[expected.count] == 0
    }

    static func length(_ string: UnsafePointer<UInt8>) -> Int {
        var count = 0
        while string[count] != 0 { count += 1 }
        return count
    }

    /// Whether the whitespace-separated list contains `word`.
    static func containsWord(_ list: UnsafePointer<UInt8>, _ word: SelectorProgram.Bytes, caseInsensitive: Bool) -> Bool
    {
        var index = 0
        while list[index] != 0 {
            while list[index] != 0, isHTMLWhitespace(list[index]) { index += 1 }
            let start = index
            while list[index] != 0, !isHTMLWhitespace(list[index]) { index += 1 }
            if index - start == word.count,
                equalBytes(list + start, word.pointer, word.count, caseInsensitive: caseInsensitive)
            {
                return true
            }
        }
        return false
    }

    /// Which of the first 64 `names` the whitespace-separated `list` holds, as a bit mask: one
    /// pass over the list for every class condition of every selector. `lengths` has bit n set
    /// when some name is n bytes long (bit 63: 63 or more), so most tokens are passed over
    /// without a compare.
    static func wordMask(
        _ list: UnsafePointer<UInt8>, _ names: UnsafeMutableBufferPointer<SelectorProgram.Bytes>, lengths: UInt64
    )
        -> UInt64
    {
        let nameCount = min(names.count, 64)
        var mask: UInt64 = 0
        var index = 0
        while true {
            var byte = list[index]
            while byte != 0, isHTMLWhitespace(byte) {
                index &+= 1
                byte = list[index]
            }
            if byte == 0 { return mask }
            let start = index
            // NUL and every HTML whitespace byte are at most 0x20: one compare per byte of a token.
            while true {
                while list[index] > 0x20 { index &+= 1 }
                let stop = list[index]
                if stop == 0 || isHTMLWhitespace(stop) { break }
                index &+= 1
            }
            let length = index &- start
            guard lengths & (1 << UInt64(min(length, 63))) != 0 else { continue }
            for bit in 0..<nameCount
            where names[bit].count == length
                && equalBytes(list + start, names[bit].pointer, length, caseInsensitive: false)
            {
                mask |= 1 << UInt64(bit)
            }
        }
    }

    @inline(__always)
    static func equalBytes(
        _ left: UnsafePointer<UInt8>, _ right: UnsafePointer<UInt8>, _ count: Int, caseInsensitive: Bool
    ) -> Bool {
        if caseInsensitive {
            for index in 0..<count where asciiLowercased(left[index]) != right[index] { return false }
        } else {
            for index in 0..<count where left[index] != right[index] { return false }
        }
        return true
    }

    /// Attribute value operators; with `caseInsensitive` the compiled value is already lower-case.
    static func matches(
        _ actual: UnsafePointer<UInt8>, _ match: AttributeSelector.Operator, _ value: SelectorProgram.Bytes,
        caseInsensitive: Bool
    ) -> Bool {
        let count = length(actual)
        let wanted = value.count
        switch match {
        case .equals:
            return count == wanted && equalBytes(actual, value.pointer, wanted, caseInsensitive: caseInsensitive)
        case .prefix:
            return wanted > 0 && count >= wanted
                && equalBytes(actual, value.pointer, wanted, caseInsensitive: caseInsensitive)
        case .suffix:
            return wanted > 0 && count >= wanted
                && equalBytes(actual + (count - wanted), value.pointer, wanted, caseInsensitive: caseInsensitive)
        case .contains:
            guard wanted > 0, count >= wanted else { return false }
            for start in 0...(count - wanted)
            where equalBytes(actual + start, value.pointer, wanted, caseInsensitive: caseInsensitive) {
                return true
            }
            return false
        case .includesWord:
            guard wanted > 0 else { return false }
            for index in 0..<wanted where isHTMLWhitespace(value.pointer[index]) { return false }
            return containsWord(actual, value, caseInsensitive: caseInsensitive)
        case .dashPrefix:
            if count == wanted { return equalBytes(actual, value.pointer, wanted, caseInsensitive: caseInsensitive) }
            return count > wanted && actual[wanted] == UInt8(ascii: "-")
                && equalBytes(actual, value.pointer, wanted, caseInsensitive: caseInsensitive)
        }
    }
}
