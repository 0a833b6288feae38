/// A start tag cut into the pieces attribute edits need, so that everything an edit does not
/// touch — spacing, quoting, attribute order, the `/>` — is written back byte for byte. Untouched
/// pieces stay ranges of the page; only rewritten attributes hold bytes of their own.
struct EditableTag {
    private enum Piece {
        case page(Range<Int>)
        case bytes([UInt8])
    }

    private struct Item {
        /// Bytes between the previous token and this one (whitespace, a stray `/`).
        var leading: Piece
        var nameRange: Range<Int>?
        /// Set for an attribute this tag gained (lower-case).
        var newName: [UInt8]?
        var token: Piece
        /// The raw value (not decoded) and its quote.
        var value: Piece?
        var quote: UInt8?
    }

    private let page: UnsafeBufferPointer<UInt8>
    private let head: Range<Int>
    private var items: [Item]
    private let tail: Range<Int>

    init(_ tag: StartTag, in page: UnsafeBufferPointer<UInt8>) {
        self.page = page
        head = tag.start..<tag.nameRange.upperBound
        var cursor = tag.nameRange.upperBound
        var items: [Item] = []
        items.reserveCapacity(tag.attributes.count + 1)
        for attribute in tag.attributes {
            items.append(
                Item(
                    leading: .page(cursor..<attribute.tokenRange.lowerBound), nameRange: attribute.nameRange,
                    newName: nil,
                    token: .page(attribute.tokenRange), value: attribute.valueRange.map { .page($0) },
                    quote: attribute.quote))
            cursor = attribute.tokenRange.upperBound
        }
        self.items = items
        tail = cursor..<tag.end
    }

    var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(tail.upperBound - head.lowerBound + 64)
        append(.page(head), to: &result)
        for item in items {
            append(item.leading, to: &result)
            append(item.token, to: &result)
        }
        append(.page(tail), to: &result)
        return result
    }

    private func append(_ piece: Piece, to result: inout [UInt8]) {
        switch piece {
        case .page(let range): result.append(contentsOf: UnsafeBufferPointer(rebasing: page[range]))
        case .bytes(let bytes): result.append(contentsOf: bytes)
        }
    }

    private func materialize(_ piece: Piece) -> [UInt8] {
        switch piece {
        case .page(let range): return Array(UnsafeBufferPointer(rebasing: page[range]))
        case .bytes(let bytes): return bytes
        }
    }

    private func index(of name: [UInt8]) -> Int? {
        items.firstIndex { item in
            if let newName = item.newName { return newName == name }
            guard let range = item.nameRange, range.count == name.count else { return false }
            var offset = 0
            for position in range {
                guard asciiLowercased(page[position]) == name[offset] else { return false }
                offset += 1
            }
            return true
        }
    }

    /// The attribute's name as written in the page (case kept).
    private func writtenName(_ item: Item) -> [UInt8] {
        if let newName = item.newName { return newName }
        return item.nameRange.map { Array(UnsafeBufferPointer(rebasing: page[$0])) } ?? []
    }

    /// Sets (or with nil removes) attribute `name`; `value` is already escaped for a double-quoted value.
    mutating func set(_ name: [UInt8], value: [UInt8]?) {
        guard let index = index(of: name) else {
            if let value { append(name, value) }
            return
        }
        guard let value else {
            items.remove(at: index)
            return
        }
        items[index].token = .bytes(
            writtenName(items[index]) + [UInt8(ascii: "="), UInt8(ascii: "\"")] + value + [UInt8(ascii: "\"")])
        items[index].value = .bytes(value)
        items[index].quote = UInt8(ascii: "\"")
    }

    /// Adds class names (escaped) not already in the class list, keeping the list's own bytes.
    mutating func addClasses(_ names: [[UInt8]]) {
        guard let index = index(of: Self.className) else {
            append(Self.className, Self.spaceSeparated(names))
            return
        }
        let existing = items[index].value.map(materialize) ?? []
        let present = Self.words(of: existing)
        var added: [[UInt8]] = []
        for name in names where !present.contains(where: { $0.elementsEqual(name) }) && !added.contains(name) {
            added.append(name)
        }
        guard !added.isEmpty else { return }
        var value = existing
        while let last = value.last, isHTMLWhitespace(last) { value.removeLast() }
        for name in added {
            if !value.isEmpty { value.append(UInt8(ascii: " ")) }
            value.append(contentsOf: name)
        }
        write(value, at: index)
    }

    /// Removes class names (compared with the raw bytes of the list).
    mutating func removeClasses(_ names: [[UInt8]]) {
        guard let index = index(of: Self.className), let existingPiece = items[index].value else { return }
        let existing = materialize(existingPiece)
        let tokens = Self.words(of: existing)
        let kept = tokens.filter { token in !names.contains { token.elementsEqual($0) } }
        guard kept.count != tokens.count else { return }
        write(Self.spaceSeparated(kept), at: index)
    }

    private static let className = Array("class".utf8)

    /// The whitespace-separated words of a class list.
    private static func words(of list: [UInt8]) -> [ArraySlice<UInt8>] {
        list.split(whereSeparator: isHTMLWhitespace)
    }

    /// `words` joined by single spaces (a loop: `joined(separator:)` appends byte by byte).
    private static func spaceSeparated<Word: Collection<UInt8>>(_ words: [Word]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(words.reduce(0) { $0 + $1.count + 1 })
        for word in words {
            if !result.isEmpty { result.append(UInt8(ascii: " ")) }
            result.append(contentsOf: word)
        }
        return result
    }

    private mutating func write(_ value: [UInt8], at index: Int) {
        let quote = items[index].quote ?? UInt8(ascii: "\"")
        let name = writtenName(items[index])
        var token: [UInt8] = []
        token.reserveCapacity(name.count + value.count + 16)
        token.append(contentsOf: name)
        token.append(UInt8(ascii: "="))
        token.append(quote)
        for byte in value {
            if byte == quote {
                token.append(
                    contentsOf: quote == UInt8(ascii: "\"") ? Self.escapedDoubleQuote : Self.escapedSingleQuote)
            } else {
                token.append(byte)
            }
        }
        token.append(quote)
        items[index].token = .bytes(token)
        items[index].value = .bytes(value)
        items[index].quote = quote
    }

    private static let escapedDoubleQuote = Array("&quot;".utf8)
    private static let escapedSingleQuote = Array("&#39;".utf8)

    private mutating func append(_ name: [UInt8], _ value: [UInt8]) {
        let token = name + [UInt8(ascii: "="), UInt8(ascii: "\"")] + value + [UInt8(ascii: "\"")]
        items.append(
            Item(
                leading: .bytes([UInt8(ascii: " ")]), nameRange: nil, newName: name, token: .bytes(token),
                value: .bytes(value), quote: UInt8(ascii: "\"")))
    }
}
