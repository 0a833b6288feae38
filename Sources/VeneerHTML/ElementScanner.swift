import CLibXML2
import VeneerCore

/// Runs libxml2's HTML parser over a page with SAX start/end callbacks only (no tree is built),
/// matches every element against the compiled selectors as it opens, and locates the matching
/// elements' boundaries from the parser's input position, checking each against the bytes.
///
/// What libxml2 2.9.14 reports (measured): at a start callback the input is at the tag's `>` (or
/// the `/` of `/>`); at the end callback of an explicitly closed element it is just after `</x>`;
/// an element closed by a following start tag ends with the input at that tag's `<`; one closed by
/// an ancestor's end tag ends with the input after that end tag; at the end of input, at the end.
/// Implied elements (`html`, `body`, a `p` around stray text) start wherever the input is.
/// A struct reached through a pointer from the callbacks, so the per-element work pays no
/// dynamic exclusivity checks (a class's stored properties would).
struct ElementScanner {
    private struct OpenElement {
        var name: UnsafePointer<UInt8>
        var childCount = 0
        /// The earliest offset an explicit end tag of this element may start at.
        var contentFloor: Int
        /// Index into `pending`, or -1.
        var match = -1
    }

    private struct PendingMatch {
        var selectors: [Int]
        var startTagStart: Int
        var startTagEnd: Int
        var hasContent: Bool
        var name: String
    }

    private let program: SelectorProgram
    private let bits: UnsafeMutableBufferPointer<SelectorProgram.Bit>
    private let enabled: UnsafeMutableBufferPointer<Bool>
    private let matcher: SelectorProgram.Matcher
    private let wordCount: Int
    private let needsIdentity: Bool
    private let bytes: UnsafeBufferPointer<UInt8>
    private let horizon: Int
    private var context: htmlParserCtxtPtr?
    private var stack: [OpenElement] = []
    private var topLevelCount = 0
    private var prefix: [UInt64] = []
    private var inherited: [UInt64] = []
    private var pending: [PendingMatch] = []
    private var openMatches = 0
    private var found: [[(ElementBoundary, Int)]]
    private var problems: [[String]]
    private var stopped = false
    private var outOfStep = false
    private var matchedSelectors: [Int] = []
    /// The offset of the last end tag found to close an ancestor (see `locateEnd`).
    private var ancestorEndTag = -1

    private init(program: SelectorProgram, bytes: UnsafeBufferPointer<UInt8>, horizon: Int) {
        self.program = program
        self.bits = program.bits
        self.enabled = program.enabled
        self.matcher = program.matcher
        self.wordCount = program.wordCount
        self.needsIdentity = program.needsIdentity
        self.bytes = bytes
        self.horizon = horizon
        self.found = Array(repeating: [], count: program.selectors.count)
        self.problems = Array(repeating: [], count: program.selectors.count)
        prefix.reserveCapacity(64 * program.wordCount)
        inherited.reserveCapacity(64 * program.wordCount)
    }

    /// libxml2 keeps global state that must be set up once, before any thread parses.
    static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    static let options = Int32(
        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
            | HTML_PARSE_IGNORE_ENC.rawValue)

    /// Parses `bytes` (clean UTF-8, see `ParseInput`) for `program`'s enabled alternatives.
    /// Offsets in the result are offsets into `bytes`.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, program: SelectorProgram, horizon: Int) -> ScanResult {
        precondition(initialized)
        var result = ScanResult.empty(program.selectors.count)
        guard let base = bytes.baseAddress, bytes.count > 0 else { return result }
        guard bytes.count < Int(Int32.max) else {
            result.failure = "the page is too large for the parser"
            return result
        }
        guard let context = base.withMemoryRebound(to: CChar.self, capacity: bytes.count, { htmlCreateMemoryParserCtxt($0, Int32(bytes.count)) })
        else {
            result.failure = "the HTML parser could not start"
            return result
        }
        defer { htmlFreeParserCtxt(context) }
        let scanner = UnsafeMutablePointer<ElementScanner>.allocate(capacity: 1)
        scanner.initialize(to: ElementScanner(program: program, bytes: bytes, horizon: horizon))
        defer {
            scanner.deinitialize(count: 1)
            scanner.deallocate()
        }
        var handler = htmlSAXHandler()
        handler.initialized = 1
        handler.startElement = { userData, name, attributes in
            guard let userData, let name else { return }
            userData.assumingMemoryBound(to: ElementScanner.self).pointee.elementStarted(name, attributes)
        }
        handler.endElement = { userData, name in
            guard let userData, let name else { return }
            userData.assumingMemoryBound(to: ElementScanner.self).pointee.elementEnded(name)
        }
        context.pointee.sax.pointee = handler
        context.pointee.userData = UnsafeMutableRawPointer(scanner)
        scanner.pointee.context = context
        _ = htmlCtxtUseOptions(context, options)
        // The input is UTF-8 (see ParseInput); without this libxml2 2.9.14 guesses at the first
        // non-ASCII byte and converts the rest to ISO-8859-1, moving every later position.
        context.pointee.charset = Int32(XML_CHAR_ENCODING_UTF8.rawValue)
        _ = withExtendedLifetime(program) { htmlParseDocument(context) }
        scanner.pointee.finish()
        if scanner.pointee.outOfStep {
            result.failure = "the parser's element events did not nest; the page was left unchanged"
            return result
        }
        for (index, list) in scanner.pointee.found.enumerated() {
            result.elements[index] = list.sorted { $0.1 < $1.1 }.map(\.0)
        }
        result.problems = scanner.pointee.problems
        result.stoppedEarly = scanner.pointee.stopped
        return result
    }

    private var position: Int {
        guard let input = context?.pointee.input else { return 0 }
        return Int(input.pointee.consumed) + (input.pointee.cur - input.pointee.base)
    }

    private var parserDepth: Int { Int(context?.pointee.nameNr ?? 0) }

    // MARK: - Callbacks

    private mutating func elementStarted(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) {
        guard !stopped, !outOfStep else { return }
        // An element whose start tag had no `>` is dropped by libxml2 without an end event.
        while stack.count > parserDepth - 1, !stack.isEmpty { dropUnclosed() }
        let offset = position
        let siblingIndex: Int
        if stack.isEmpty {
            topLevelCount += 1
            siblingIndex = topLevelCount
        } else {
            stack[stack.count - 1].childCount += 1
            siblingIndex = stack[stack.count - 1].childCount
        }
        var facts = ElementFacts(name: name, attributes: attributes, id: nil, classList: nil, siblingIndex: siblingIndex)
        if needsIdentity, let attributes {
            var index = 0
            while let attributeName = attributes[index] {
                if attributeName[0] == UInt8(ascii: "i"), attributeName[1] == UInt8(ascii: "d"), attributeName[2] == 0 {
                    if facts.id == nil { facts.id = attributes[index + 1] ?? UnsafePointer(CBytes.empty) }
                } else if facts.classList == nil, attributeName[0] == UInt8(ascii: "c"), attributeName[1] == UInt8(ascii: "l"),
                    attributeName[2] == UInt8(ascii: "a"), attributeName[3] == UInt8(ascii: "s"), attributeName[4] == UInt8(ascii: "s"),
                    attributeName[5] == 0
                {
                    facts.classList = attributes[index + 1] ?? UnsafePointer(CBytes.empty)
                }
                index += 2
            }
        }
        let depth = stack.count
        computeBits(depth: depth, facts)
        let contentFloor = offset < bytes.count && bytes[offset] == UInt8(ascii: ">") ? offset + 1 : offset
        stack.append(OpenElement(name: name, contentFloor: contentFloor))
        if !matchedSelectors.isEmpty {
            recordStart(name: name, offset: offset)
        }
        checkForStop(offset)
    }

    private mutating func elementEnded(_ name: UnsafePointer<UInt8>) {
        guard !stopped, !outOfStep else { return }
        while stack.count > parserDepth, !stack.isEmpty { dropUnclosed() }
        guard let top = stack.last, xmlStrEqual(top.name, name) != 0 else {
            outOfStep = true
            return
        }
        let offset = position
        let element = stack.removeLast()
        var boundary: (contentEnd: Int, end: Int)?
        if element.match >= 0, !pending[element.match].hasContent, offset == pending[element.match].startTagEnd {
            boundary = (offset, offset)
        } else if element.match >= 0 || (stack.last?.match ?? -1) >= 0 {
            // Only a matched element, or the child of one (its end sets the parent's floor), needs this.
            boundary = locateEnd(of: element, at: offset)
        }
        if !stack.isEmpty {
            stack[stack.count - 1].contentFloor = max(stack[stack.count - 1].contentFloor, boundary?.end ?? offset)
        }
        if element.match >= 0 {
            openMatches -= 1
            let match = pending[element.match]
            if let boundary, boundary.contentEnd >= match.startTagEnd {
                let element = ElementBoundary(
                    startTagStart: match.startTagStart, startTagEnd: match.startTagEnd, contentEnd: boundary.contentEnd,
                    end: boundary.end, hasContent: match.hasContent)
                for selector in match.selectors { found[selector].append((element, match.startTagStart)) }
            } else {
                for selector in match.selectors {
                    problems[selector].append("the end of <\(match.name)> at byte \(match.startTagStart) could not be located in the page")
                }
            }
        }
        checkForStop(offset)
    }

    // MARK: - Matching

    private mutating func computeBits(depth: Int, _ facts: ElementFacts) {
        let words = wordCount
        let base = depth * words
        if prefix.count < base + words {
            prefix.append(contentsOf: repeatElement(0, count: base + words - prefix.count))
            inherited.append(contentsOf: repeatElement(0, count: base + words - inherited.count))
        }
        if !matchedSelectors.isEmpty { matchedSelectors.removeAll(keepingCapacity: true) }
        let bits = self.bits
        let enabled = self.enabled
        let matcher = self.matcher
        var subjectMatched = false
        prefix.withUnsafeMutableBufferPointer { prefix in
            inherited.withUnsafeMutableBufferPointer { inherited in
                for word in 0..<words {
                    prefix[base + word] = 0
                    inherited[base + word] = depth == 0 ? 0 : inherited[base - words + word] | prefix[base - words + word]
                }
                for bit in 0..<bits.count {
                    let info = bits[bit]
                    guard enabled[info.chain] else { continue }
                    if !info.isFirst {
                        let previous = bit - 1
                        let word = previous >> 6
                        let mask = UInt64(1) << UInt64(previous & 63)
                        switch info.combinator {
                        case .child:
                            guard depth > 0, prefix[base - words + word] & mask != 0 else { continue }
                        case .descendant:
                            guard inherited[base + word] & mask != 0 else { continue }
                        }
                    }
                    guard matcher.matches(compound: info.compound, facts) else { continue }
                    prefix[base + (bit >> 6)] |= UInt64(1) << UInt64(bit & 63)
                    if info.isLast { subjectMatched = true }
                }
            }
        }
        guard subjectMatched else { return }
        for bit in 0..<bits.count where bits[bit].isLast && prefix[base + (bit >> 6)] & (UInt64(1) << UInt64(bit & 63)) != 0 {
            if !matchedSelectors.contains(bits[bit].selector) { matchedSelectors.append(bits[bit].selector) }
        }
    }

    // MARK: - Boundaries

    private mutating func recordStart(name: UnsafePointer<UInt8>, offset: Int) {
        let nameText = String(cString: name)
        var startTagEnd: Int?
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ">") {
            startTagEnd = offset + 1
        } else if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "/"), bytes[offset + 1] == UInt8(ascii: ">") {
            startTagEnd = offset + 2
        }
        guard let startTagEnd, let tag = findStartTag(name: name, endingAt: startTagEnd) else {
            for selector in matchedSelectors {
                problems[selector].append("<\(nameText)> near byte \(offset) has no start tag of its own in the page (the parser implied it)")
            }
            return
        }
        let hasContent = !(tag.selfClosing || Self.voidElements.contains(nameText))
        pending.append(
            PendingMatch(selectors: matchedSelectors, startTagStart: tag.start, startTagEnd: startTagEnd, hasContent: hasContent, name: nameText))
        stack[stack.count - 1].match = pending.count - 1
        stack[stack.count - 1].contentFloor = startTagEnd
        openMatches += 1
    }

    /// The start tag named `name` that ends exactly at `end`: the last `<` candidates before it are
    /// tried (an attribute value may hold `<`), each read forward with the tokenizer's rules.
    private func findStartTag(name: UnsafePointer<UInt8>, endingAt end: Int) -> StartTag? {
        guard let base = bytes.baseAddress else { return nil }
        let window = max(0, end - 65_536)
        var searchEnd = end - 1
        var attempts = 0
        while searchEnd > window, attempts < 64 {
            guard let found = memrchr(base + window, Int32(UInt8(ascii: "<")), searchEnd - window) else { return nil }
            let candidate = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            // Read only up to `end`: a false candidate must not scan the rest of the page.
            if let tag = StartTag(UnsafeBufferPointer(rebasing: bytes[..<end]), at: candidate), tag.end == end, tag.hasName(name, in: bytes) {
                return tag
            }
            searchEnd = candidate
            attempts += 1
        }
        return nil
    }

    /// Where `element` ends given the input position at its end event; nil when the bytes there
    /// fit none of the ways libxml2 closes an element.
    private mutating func locateEnd(of element: OpenElement, at offset: Int) -> (contentEnd: Int, end: Int)? {
        if let base = bytes.baseAddress, offset > element.contentFloor, offset <= bytes.count, bytes[offset - 1] == UInt8(ascii: ">"),
            let found = memrchr(base + element.contentFloor, Int32(UInt8(ascii: "<")), offset - 1 - element.contentFloor)
        {
            let tagStart = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            if tagStart + 2 < offset, bytes[tagStart + 1] == UInt8(ascii: "/") {
                let nameStart = tagStart + 2
                var nameEnd = nameStart
                while nameEnd < offset, !isHTMLWhitespace(bytes[nameEnd]), bytes[nameEnd] != UInt8(ascii: ">"),
                    bytes[nameEnd] != UInt8(ascii: "/")
                {
                    nameEnd += 1
                }
                if namesEqual(element.name, nameStart..<nameEnd) { return (tagStart, offset) }
                // One end tag can close thousands of open elements; the ancestor it names is found once.
                if ancestorEndTag == tagStart { return (tagStart, tagStart) }
                if stack.contains(where: { namesEqual($0.name, nameStart..<nameEnd) }) {
                    ancestorEndTag = tagStart
                    return (tagStart, tagStart)
                }
            }
        }
        if offset == bytes.count { return (offset, offset) }
        if offset < bytes.count, offset >= element.contentFloor, bytes[offset] == UInt8(ascii: "<") { return (offset, offset) }
        return nil
    }

    private func namesEqual(_ name: UnsafePointer<UInt8>, _ range: Range<Int>) -> Bool {
        var index = 0
        for position in range {
            guard name[index] != 0, asciiLowercased(bytes[position]) == name[index] else { return false }
            index += 1
        }
        return name[index] == 0
    }

    private mutating func dropUnclosed() {
        let element = stack.removeLast()
        guard element.match >= 0 else { return }
        openMatches -= 1
        let match = pending[element.match]
        for selector in match.selectors {
            problems[selector].append("the start tag of <\(match.name)> at byte \(match.startTagStart) is not closed with \">\"")
        }
    }

    private mutating func checkForStop(_ offset: Int) {
        guard openMatches == 0, offset > horizon, let context else { return }
        stopped = true
        xmlStopParser(context)
    }

    private mutating func finish() {
        while !stack.isEmpty { dropUnclosed() }
    }

    /// Elements that never have content (WHATWG void elements and the obsolete ones libxml2 treats so).
    static let voidElements: Set<String> = [
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "isindex", "keygen",
        "link", "meta", "param", "source", "track", "wbr",
    ]
}
