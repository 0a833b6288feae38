import VeneerCore

/// A page libxml2 parsed, kept with what the parse found and with the byte ranges of the page in which a
/// word can change without changing what any parse finds — so that the next page of a site that puts a fresh
/// nonce, CSRF token or request id into every response is answered from this parse, not a new one.
///
/// Those ranges (`inertSpans`) are text between tags, the content of `script` and `style`, and quoted values
/// of attributes no selector reads (`nonce`, `value`, `data-…`). The page is read with a deliberately narrow
/// tokenizer: anything it is not sure libxml2 reads the same way (a `<` that opens no tag, an unquoted value
/// holding a quote, a processing instruction, a tag the page does not close) makes the page no template at
/// all, and every page derived from it is checked again boundary by boundary.
///
/// ```swift
/// let guarded = PageTemplate.guardedAttributes(for: selectors)
/// let template = PageTemplate(page: bytes, scan: scan, guardedAttributes: guarded)
/// let next = template?.derive(for: nextPageBytes)  // a ScanResult, or nil: parse that page
/// ```
struct PageTemplate: Sendable {
    let bytes: [UInt8]
    let scan: ScanResult
    /// Sorted, disjoint.
    let inertSpans: [Range<Int>]

    /// Pages larger than this are not kept: a template is held in memory beside the parse cache.
    static let maximumBytes = 1 << 20

    init?(page: UnsafeBufferPointer<UInt8>, scan: ScanResult, guardedAttributes: Set<[UInt8]>) {
        // A scan with problems is not kept: their messages name page offsets, which a derived page would move.
        guard page.count <= Self.maximumBytes, scan.failure == nil, scan.problems.allSatisfy(\.isEmpty),
            let spans = Self.inertSpans(page, guardedAttributes: guardedAttributes)
        else { return nil }
        self.bytes = Array(page)
        self.scan = scan
        self.inertSpans = spans
    }

    /// Lower-cased names of the attributes whose values can decide a match or how the page is read.
    static func guardedAttributes(for selectors: [CSSSelector]) -> Set<[UInt8]> {
        var names = Set(["id", "class", "charset", "content", "http-equiv"].map { Array($0.utf8) })
        func add(_ compound: CompoundSelector) {
            for condition in compound.conditions {
                switch condition {
                case .attribute(let attribute): names.insert(Array(attribute.name.lowercased().utf8))
                case .not(let inner): add(inner)
                case .id, .className, .firstChild, .nthChild: break
                }
            }
        }
        for selector in selectors {
            for alternative in selector.alternatives { alternative.compounds.forEach(add) }
        }
        return names
    }

    // MARK: reading the page

    private static let lessThan = UInt8(ascii: "<")
    private static let greaterThan = UInt8(ascii: ">")
    private static let slash = UInt8(ascii: "/")
    private static let equals = UInt8(ascii: "=")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")

    /// Whether `page[range]` is `name` (lower-case) in any case, compared in place.
    private static func equalsIgnoringCase(
        _ page: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: [UInt8]
    )
        -> Bool
    {
        guard range.count == name.count else { return false }
        for (offset, expected) in name.enumerated() where asciiLowercased(page[range.lowerBound + offset]) != expected {
            return false
        }
        return true
    }

    // Needles for ByteSearch, kept so that a search allocates nothing.
    private static let openNeedle = [lessThan]
    private static let closeNeedle = [greaterThan]
    private static let doubleQuoteNeedle = [doubleQuote]
    private static let singleQuoteNeedle = [singleQuote]
    private static let commentEndNeedle = Array("-->".utf8)

    /// The earliest `</` + letter at or after `start`: libxml2 ends raw text there or later, never earlier.
    private static func rawTextEnd(in page: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index + 2 < page.count {
            if page[index] == lessThan, page[index + 1] == slash, isASCIILetter(page[index + 2]) { return index }
            index += 1
        }
        return nil
    }

    static func inertSpans(_ page: UnsafeBufferPointer<UInt8>, guardedAttributes: Set<[UInt8]>) -> [Range<Int>]? {
        let guarded = Array(guardedAttributes)
        var spans: [Range<Int>] = []
        var index = 0
        while index < page.count {
            guard let open = ByteSearch.first(openNeedle, in: page, from: index) else {
                spans.append(index..<page.count)
                break
            }
            if open > index { spans.append(index..<open) }
            guard open + 1 < page.count else { return nil }
            let next = page[open + 1]
            if next == UInt8(ascii: "!") {
                if open + 3 < page.count, page[open + 2] == UInt8(ascii: "-"), page[open + 3] == UInt8(ascii: "-") {
                    // A comment is skipped, not counted inert: its edge cases (`<!-->`, `--!>`) are not worth it.
                    guard let close = ByteSearch.first(commentEndNeedle, in: page, from: open + 4) else { return nil }
                    index = close + 3
                } else {
                    guard let close = ByteSearch.first(closeNeedle, in: page, from: open + 2) else { return nil }
                    index = close + 1
                }
            } else if next == slash {
                guard let close = ByteSearch.first(closeNeedle, in: page, from: open + 2) else { return nil }
                index = close + 1
            } else if isASCIILetter(next) {
                guard let (end, name) = startTag(in: page, at: open, guarded: guarded, into: &spans) else {
                    return nil
                }
                index = end
                if equalsIgnoringCase(page, name, Self.script) || equalsIgnoringCase(page, name, Self.style) {
                    guard let close = rawTextEnd(in: page, from: end) else { return nil }
                    if close > end { spans.append(end..<close) }
                    index = close
                } else if equalsIgnoringCase(page, name, Self.plaintext) {
                    return nil
                }
            } else {
                // `<` before a space, digit or `?`: libxml2 keeps it as text or reads a processing instruction.
                return nil
            }
        }
        return spans
    }

    private static let script = Array("script".utf8)
    private static let style = Array("style".utf8)
    private static let plaintext = Array("plaintext".utf8)

    /// Reads the start tag at `open`; returns where it ends and where its name is, adding the inert attribute
    /// values to `spans`. nil for anything unusual.
    private static func startTag(
        in page: UnsafeBufferPointer<UInt8>, at open: Int, guarded: [[UInt8]], into spans: inout [Range<Int>]
    ) -> (end: Int, name: Range<Int>)? {
        guard let nameEnd = nameEnd(in: page, from: open + 1) else { return nil }
        let name = (open + 1)..<nameEnd
        var cursor = nameEnd
        while true {
            let previousEnd = cursor
            while cursor < page.count, isHTMLWhitespace(page[cursor]) { cursor += 1 }
            guard cursor < page.count else { return nil }
            if page[cursor] == greaterThan { return (cursor + 1, name) }
            if page[cursor] == slash {
                guard cursor + 1 < page.count else { return nil }
                if page[cursor + 1] == greaterThan { return (cursor + 2, name) }
                // libxml2 skips a bogus attribute to the next blank: only a `/` right before one is harmless.
                guard isHTMLWhitespace(page[cursor + 1]) else { return nil }
                cursor += 1
                continue
            }
            // A blank before every attribute (`<a$b>`, `a="1"b` are read another way by libxml2).
            guard cursor > previousEnd, let attributeEnd = Self.nameEnd(in: page, from: cursor) else { return nil }
            let attribute = cursor..<attributeEnd
            cursor = attributeEnd
            while cursor < page.count, isHTMLWhitespace(page[cursor]) { cursor += 1 }
            guard cursor < page.count else { return nil }
            guard page[cursor] == equals else {
                // No value: back to the name's end, so that what follows is checked like anything after a name.
                cursor = attributeEnd
                continue
            }
            cursor += 1
            while cursor < page.count, isHTMLWhitespace(page[cursor]) { cursor += 1 }
            guard cursor < page.count else { return nil }
            let quote = page[cursor]
            if quote == doubleQuote || quote == singleQuote {
                guard
                    let close = ByteSearch.first(
                        quote == doubleQuote ? doubleQuoteNeedle : singleQuoteNeedle, in: page, from: cursor + 1)
                else { return nil }
                if close > cursor + 1, !guarded.contains(where: { equalsIgnoringCase(page, attribute, $0) }) {
                    spans.append((cursor + 1)..<close)
                }
                cursor = close + 1
            } else {
                while cursor < page.count, !isHTMLWhitespace(page[cursor]), page[cursor] != greaterThan {
                    let byte = page[cursor]
                    if byte == lessThan || byte == doubleQuote || byte == singleQuote || byte == equals
                        || byte == UInt8(ascii: "`")
                    {
                        return nil
                    }
                    cursor += 1
                }
            }
        }
    }

    /// The end of the name libxml2 reads at `start` (`htmlParseHTMLName`: a letter, `_`, `:` or `.`, then
    /// letters, digits and `:-_.`, at most 99 bytes kept); nil when it reads none, or would cut it short.
    private static func nameEnd(in page: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < page.count else { return nil }
        let first = page[start]
        guard
            isASCIILetter(first) || first == UInt8(ascii: "_") || first == UInt8(ascii: ":")
                || first == UInt8(ascii: ".")
        else { return nil }
        var cursor = start + 1
        while cursor < page.count {
            let byte = page[cursor]
            guard
                isASCIILetter(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            else { break }
            cursor += 1
        }
        return cursor - start < 100 ? cursor : nil
    }
}
