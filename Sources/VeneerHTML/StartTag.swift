/// A start tag read from the page bytes with the HTML tokenizer's rules: where it ends and where
/// each attribute sits, so attribute edits touch only the bytes they change.
struct StartTag {
    struct Attribute {
        var nameRange: Range<Int>
        /// The value's bytes, without quotes; nil for a valueless attribute.
        var valueRange: Range<Int>?
        /// `"`, `'` or nil when unquoted or valueless.
        var quote: UInt8?
        /// From the name's first byte to after the value (and its closing quote).
        var tokenRange: Range<Int>
    }

    var start: Int
    var nameRange: Range<Int>
    var attributes: [Attribute]
    /// After `>`.
    var end: Int
    /// The tag ends with `/>`.
    var selfClosing: Bool

    /// Reads the start tag whose `<` is at `start`; nil when the bytes there are not a complete start tag.
    /// Without `collectingAttributes` only the tag's extent is read (`attributes` stays empty),
    /// which allocates nothing: what locating an element needs.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, collectingAttributes: Bool = true) {
        let count = bytes.count
        guard start + 1 < count, bytes[start] == UInt8(ascii: "<"), isASCIILetter(bytes[start + 1]) else { return nil }
        var index = start + 1
        while index < count, !isHTMLWhitespace(bytes[index]), bytes[index] != UInt8(ascii: "/"),
            bytes[index] != UInt8(ascii: ">")
        {
            index += 1
        }
        self.start = start
        nameRange = (start + 1)..<index
        attributes = []
        selfClosing = false
        while true {
            while index < count, isHTMLWhitespace(bytes[index]) || bytes[index] == UInt8(ascii: "/") {
                if bytes[index] == UInt8(ascii: "/"), index + 1 < count, bytes[index + 1] == UInt8(ascii: ">") {
                    selfClosing = true
                    end = index + 2
                    return
                }
                index += 1
            }
            guard index < count else { return nil }
            if bytes[index] == UInt8(ascii: ">") {
                end = index + 1
                return
            }
            // The attribute name: a leading `=` belongs to it (HTML tokenizer rule).
            let nameStart = index
            index += 1
            while index < count, !isHTMLWhitespace(bytes[index]), bytes[index] != UInt8(ascii: "/"),
                bytes[index] != UInt8(ascii: ">"),
                bytes[index] != UInt8(ascii: "=")
            {
                index += 1
            }
            let nameRange = nameStart..<index
            var afterName = index
            while afterName < count, isHTMLWhitespace(bytes[afterName]) { afterName += 1 }
            guard afterName < count, bytes[afterName] == UInt8(ascii: "=") else {
                if collectingAttributes {
                    attributes.append(
                        Attribute(nameRange: nameRange, valueRange: nil, quote: nil, tokenRange: nameStart..<index))
                }
                continue
            }
            index = afterName + 1
            while index < count, isHTMLWhitespace(bytes[index]) { index += 1 }
            guard index < count else { return nil }
            let first = bytes[index]
            if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
                let valueStart = index + 1
                var valueEnd = valueStart
                while valueEnd < count, bytes[valueEnd] != first { valueEnd += 1 }
                guard valueEnd < count else { return nil }
                index = valueEnd + 1
                if collectingAttributes {
                    attributes.append(
                        Attribute(
                            nameRange: nameRange, valueRange: valueStart..<valueEnd, quote: first,
                            tokenRange: nameStart..<index))
                }
            } else if first == UInt8(ascii: ">") {
                if collectingAttributes {
                    attributes.append(
                        Attribute(
                            nameRange: nameRange, valueRange: index..<index, quote: nil, tokenRange: nameStart..<index))
                }
            } else {
                let valueStart = index
                while index < count, !isHTMLWhitespace(bytes[index]), bytes[index] != UInt8(ascii: ">") { index += 1 }
                if collectingAttributes {
                    attributes.append(
                        Attribute(
                            nameRange: nameRange, valueRange: valueStart..<index, quote: nil,
                            tokenRange: nameStart..<index))
                }
            }
        }
    }

    /// The first attribute whose name equals `name` (ASCII case-insensitive; `name` lower-case).
    func attributeIndex(named name: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        attributes.firstIndex { attribute in
            attribute.nameRange.count == name.count
                && zip(attribute.nameRange, name).allSatisfy { asciiLowercased(bytes[$0.0]) == $0.1 }
        }
    }

    /// Whether the tag's name equals `name` (lower-case), ASCII case-insensitively.
    func hasName(_ name: UnsafePointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        for index in nameRange {
            guard name[offset] != 0, asciiLowercased(bytes[index]) == name[offset] else { return false }
            offset += 1
        }
        return name[offset] == 0
    }
}

@inline(__always)
func isASCIILetter(_ byte: UInt8) -> Bool {
    let lower = byte | 0x20
    return lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")
}
