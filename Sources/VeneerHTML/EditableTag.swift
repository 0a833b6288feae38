/// A start tag cut into the pieces attribute edits need, so that everything an edit does not
/// touch — spacing, quoting, attribute order, the `/>` — is written back byte for byte.
struct EditableTag {
    private struct Item {
        /// Bytes between the previous token and this one (whitespace, a stray `/`).
        var leading: [UInt8]
        /// Lower-cased name.
        var name: [UInt8]
        var token: [UInt8]
        /// The raw value (not decoded) and its quote.
        var value: [UInt8]?
        var quote: UInt8?
    }

    private var head: [UInt8]
    private var items: [Item]
    private var tail: [UInt8]

    init(_ tag: StartTag, in page: UnsafeBufferPointer<UInt8>) {
        func slice(_ range: Range<Int>) -> [UInt8] { Array(UnsafeBufferPointer(rebasing: page[range])) }
        head = slice(tag.start..<tag.nameRange.upperBound)
        var cursor = tag.nameRange.upperBound
        items = tag.attributes.map { attribute in
            defer { cursor = attribute.tokenRange.upperBound }
            return Item(
                leading: slice(cursor..<attribute.tokenRange.lowerBound), name: slice(attribute.nameRange).map(asciiLowercased),
                token: slice(attribute.tokenRange), value: attribute.valueRange.map(slice), quote: attribute.quote)
        }
        tail = slice(cursor..<tag.end)
    }

    var bytes: [UInt8] {
        var result = head
        for item in items {
            result += item.leading
            result += item.token
        }
        result += tail
        return result
    }

    /// Sets (or with nil removes) attribute `name`; `value` is already escaped for a double-quoted value.
    mutating func set(_ name: [UInt8], value: [UInt8]?) {
        guard let index = items.firstIndex(where: { $0.name == name }) else {
            if let value { append(name, value) }
            return
        }
        guard let value else {
            items.remove(at: index)
            return
        }
        let originalName = Array(items[index].token.prefix(name.count))
        items[index].token = originalName + Array("=\"".utf8) + value + [UInt8(ascii: "\"")]
        items[index].value = value
        items[index].quote = UInt8(ascii: "\"")
    }

    /// Adds class names (escaped) not already in the class list, keeping the list's own bytes.
    mutating func addClasses(_ names: [[UInt8]]) {
        let className = Array("class".utf8)
        guard let index = items.firstIndex(where: { $0.name == className }) else {
            append(className, Array(names.joined(separator: [UInt8(ascii: " ")])))
            return
        }
        let existing = items[index].value ?? []
        let present = Set(existing.split(whereSeparator: isHTMLWhitespace).map(Array.init))
        var added: [[UInt8]] = []
        for name in names where !present.contains(name) && !added.contains(name) { added.append(name) }
        guard !added.isEmpty else { return }
        var value = existing
        while let last = value.last, isHTMLWhitespace(last) { value.removeLast() }
        if !value.isEmpty { value.append(UInt8(ascii: " ")) }
        value += added.joined(separator: [UInt8(ascii: " ")])
        write(value, at: index)
    }

    /// Removes class names (compared with the raw bytes of the list).
    mutating func removeClasses(_ names: [[UInt8]]) {
        let className = Array("class".utf8)
        guard let index = items.firstIndex(where: { $0.name == className }), let existing = items[index].value else { return }
        let tokens = existing.split(whereSeparator: isHTMLWhitespace).map(Array.init)
        let kept = tokens.filter { !names.contains($0) }
        guard kept.count != tokens.count else { return }
        write(Array(kept.joined(separator: [UInt8(ascii: " ")])), at: index)
    }

    private mutating func write(_ value: [UInt8], at index: Int) {
        let quote = items[index].quote ?? UInt8(ascii: "\"")
        var escaped: [UInt8] = []
        for byte in value {
            if byte == quote {
                escaped += Array((quote == UInt8(ascii: "\"") ? "&quot;" : "&#39;").utf8)
            } else {
                escaped.append(byte)
            }
        }
        let originalName = Array(items[index].token.prefix(items[index].name.count))
        items[index].token = originalName + [UInt8(ascii: "="), quote] + escaped + [quote]
        items[index].value = value
        items[index].quote = quote
    }

    private mutating func append(_ name: [UInt8], _ value: [UInt8]) {
        let token = name + Array("=\"".utf8) + value + [UInt8(ascii: "\"")]
        items.append(Item(leading: [UInt8(ascii: " ")], name: name, token: token, value: value, quote: UInt8(ascii: "\"")))
    }
}
