import CLibXML2
import VeneerCore

/// Runs libxml2's HTML parser over a page with SAX start/end callbacks only (no tree is built;
/// every other callback is NULL), matches every element against the compiled selectors as it
/// opens, and locates the matching elements' boundaries from the parser's input position,
/// checking each against the bytes.
///
/// libxml2 runs as a push parser given the whole page in one chunk: on the benchmark's shop page
/// that costs libxml2 2.9.14 about 7 % fewer instructions than its pull parser
/// (`htmlParseDocument`, which copies and compares every element name once more). Both build the
/// same tree for ordinary pages, well-formed or not (ParserModeTests checks it on every golden
/// page and on random tag soup), but the push parser gives up early on some broken ones — a page
/// that opens with an end tag, content after `</html>`, input that ends in a lone `<` — and treats
/// a `<!DOCTYPE` after other content differently. So a page with a late doctype goes to the pull
/// parser at once, and a push run that did not read the whole page with every element closed is
/// run again by the pull parser, whose tree is the reference (such pages cost two parses).
///
/// What libxml2 2.9.14 reports (measured): at a start callback the input is at the tag's `>` (or
/// the `/` of `/>`); at the end callback of an explicitly closed element it is just after `</x>`;
/// an element closed by a following start tag ends with the input at that tag's `<` (pull parser)
/// or just after the tag's name (push parser); one closed by an ancestor's end tag ends with the
/// input after that end tag; at the end of input, at the end. Implied elements (`html`, `body`,
/// a `p` around stray text) start wherever the input is. The pull parser's position is ambiguous
/// when an end tag it ignored (`</body>` after a misplaced `<body>`) comes right before the start
/// tag that closes an element: the end tag is taken, so the element ends before it. The push
/// parser's is not (it has read the start tag's name by then).
///
/// A struct reached through a pointer from the callbacks, its open elements in buffers it manages
/// itself, so the per-element work pays no exclusivity, uniqueness or bounds checks. Only matched
/// elements and the elements inside them read the input position (and every 16th start event, for
/// the early stop), and libxml2 calls back at element ends only while a matched element is open;
/// elsewhere an element costs its id and class lookup and a few bit operations.
struct ElementScanner {
    /// How libxml2 reads the page.
    enum Mode: Sendable {
        case push
        case pull
    }

    private struct OpenElement {
        var name: UnsafePointer<UInt8>
        var childCount: Int
        /// The earliest offset an explicit end tag of this element may start at (kept only while
        /// `tracked`): after its start tag and after the end of every child.
        var contentFloor: Int
        /// Index into `pending`, or -1.
        var match: Int
        /// Whether this element's end is located in the bytes: it matched or is inside an element
        /// that did (each child's located end raises its parent's floor, so the parent's own end
        /// is searched for only after it).
        var tracked: Bool
    }

    private struct PendingMatch {
        /// Range of `pendingSelectors`.
        var selectors: Range<Int>
        var startTagStart: Int
        var startTagEnd: Int
        var hasContent: Bool
        /// libxml2's interned name, valid while the parser context lives.
        var name: UnsafePointer<UInt8>
    }

    private let program: SelectorProgram
    private let bits: UnsafeMutableBufferPointer<SelectorProgram.Bit>
    private let firstBits: UnsafeMutableBufferPointer<UInt64>
    private let childBits: UnsafeMutableBufferPointer<UInt64>
    private let descendantBits: UnsafeMutableBufferPointer<UInt64>
    private let lastBits: UnsafeMutableBufferPointer<UInt64>
    private let matcher: SelectorProgram.Matcher
    private let classNames: UnsafeMutableBufferPointer<SelectorProgram.Bytes>
    private let classNameLengths: UInt64
    private let wordCount: Int
    private let needsIdentity: Bool
    private let bytes: UnsafeBufferPointer<UInt8>
    private let horizon: Int
    private let mode: Mode
    /// Bytes of the page before the parser's input (a BOM, which the push parser would read as text).
    private let inputOffset: Int
    private var context: htmlParserCtxtPtr?
    /// The open elements, `count` of them; `prefix` and `inherited` hold `wordCount` words per element.
    private var stack: UnsafeMutablePointer<OpenElement>
    private var prefix: UnsafeMutablePointer<UInt64>
    private var inherited: UnsafeMutablePointer<UInt64>
    private var count = 0
    private var capacity: Int
    private var topLevelCount = 0
    private var pending: [PendingMatch] = []
    private var pendingSelectors: [Int] = []
    /// Matched elements whose end is still to come. While there are none, libxml2 is given no
    /// end callback at all (`listenForEnds`): the open elements are brought in line with its
    /// stack at the next start event instead, which costs nothing per element.
    private var openMatches = 0
    private let endHandler: endElementSAXFunc
    private var found: [[(ElementBoundary, Int)]]
    private var problems: [[String]]
    private var stopped = false
    /// The input position when the parser was stopped (libxml2 then empties its input).
    private var stopPosition = 0
    private var stopCountdown = 0
    private var outOfStep = false
    private var matchedSelectors: [Int] = []
    /// The offset of the last end tag found to close an ancestor (see `locateEnd`).
    private var ancestorEndTag = -1

    private init(
        program: SelectorProgram, bytes: UnsafeBufferPointer<UInt8>, horizon: Int, mode: Mode, inputOffset: Int
    ) {
        self.program = program
        self.bits = program.bits
        self.firstBits = program.firstBits
        self.childBits = program.childBits
        self.descendantBits = program.descendantBits
        self.lastBits = program.lastBits
        self.matcher = program.matcher
        self.classNames = program.classNames
        self.classNameLengths = program.classNameLengths
        self.wordCount = program.wordCount
        self.needsIdentity = program.needsIdentity
        self.bytes = bytes
        self.horizon = horizon
        self.mode = mode
        self.inputOffset = inputOffset
        self.endHandler = { userData, name in
            guard let userData, let name else { return }
            userData.assumingMemoryBound(to: ElementScanner.self).pointee.elementEnded(name)
        }
        self.found = Array(repeating: [], count: program.selectors.count)
        self.problems = Array(repeating: [], count: program.selectors.count)
        capacity = 64
        stack = .allocate(capacity: capacity)
        prefix = .allocate(capacity: capacity * program.wordCount)
        prefix.initialize(repeating: 0, count: capacity * program.wordCount)
        inherited = .allocate(capacity: capacity * program.wordCount)
        inherited.initialize(repeating: 0, count: capacity * program.wordCount)
        matchedSelectors.reserveCapacity(program.selectors.count)
    }

    private func release() {
        stack.deallocate()
        prefix.deallocate()
        inherited.deallocate()
    }

    /// libxml2 keeps global state that must be set up once, before any thread parses.
    static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    static let options = Int32(
        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue
            | HTML_PARSE_IGNORE_ENC.rawValue)

    /// Parses `bytes` (clean UTF-8, see `ParseInput`) for `program`'s enabled alternatives.
    /// Offsets in the result are offsets into `bytes`. `mode` nil chooses as the type's comment
    /// says; a given mode is used as it is, without the fallback (for tests and measurements).
    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, program: SelectorProgram, horizon: Int, mode: Mode? = nil
    ) -> ScanResult {
        precondition(initialized)
        guard bytes.baseAddress != nil, bytes.count > 0 else { return ScanResult.empty(program.selectors.count) }
        guard bytes.count < Int(Int32.max) else {
            var result = ScanResult.empty(program.selectors.count)
            result.failure = "the page is too large for the parser"
            return result
        }
        if let mode { return run(bytes, program: program, horizon: horizon, mode: mode, firstChunkEnd: nil).result }
        if !hasLateDoctype(bytes) {
            var push = run(
                bytes, program: program, horizon: horizon, mode: .push,
                firstChunkEnd: firstChunkEnd(bytes, horizon: horizon))
            if push.cutShort {
                push = run(bytes, program: program, horizon: horizon, mode: .push, firstChunkEnd: nil)
            }
            if push.complete { return push.result }
        }
        var result = run(bytes, program: program, horizon: horizon, mode: .pull, firstChunkEnd: nil).result
        result.parsedByPullParser = true
        return result
    }

    /// Where the push parser's first chunk ends when the early stop is likely to come well before
    /// the end of a large page: just after the first `<` 16 KB past the horizon, so libxml2 does
    /// not copy the rest of the page into its input buffer unless the parse goes on into it. nil
    /// hands the page over in one chunk.
    static func firstChunkEnd(_ bytes: UnsafeBufferPointer<UInt8>, horizon: Int) -> Int? {
        let margin = 16_384
        guard horizon < bytes.count - 2 * margin,
            let found = ByteSearch.first(Self.tagOpen, in: bytes, from: horizon + margin)
        else { return nil }
        return found + 1
    }

    private static let tagOpen: [UInt8] = [UInt8(ascii: "<")]

    /// One parse. With `firstChunkEnd` the push parser is given the page up to there first, not
    /// yet the end of input: it parses only constructs it has all of and waits at the `<` the
    /// chunk ends with, so everything it reported before that point is what a one-chunk parse
    /// reports (ParserModeTests checks both). It gets the rest only if it did not stop. If it
    /// consumed the whole chunk (a construct cut short by its end, say a start tag whose quoting
    /// libxml2's look-ahead reads differently from its parser) or stopped there, the run is
    /// `cutShort` and the caller parses the page again in one chunk.
    private static func run(
        _ bytes: UnsafeBufferPointer<UInt8>, program: SelectorProgram, horizon: Int, mode: Mode, firstChunkEnd: Int?
    ) -> (
        result: ScanResult, complete: Bool, cutShort: Bool
    ) {
        var result = ScanResult.empty(program.selectors.count)
        let base = bytes.baseAddress!
        let skip = mode == .push && bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        let scanner = UnsafeMutablePointer<ElementScanner>.allocate(capacity: 1)
        scanner.initialize(
            to: ElementScanner(program: program, bytes: bytes, horizon: horizon, mode: mode, inputOffset: skip))
        defer {
            scanner.pointee.release()
            scanner.deinitialize(count: 1)
            scanner.deallocate()
        }
        var handler = htmlSAXHandler()
        handler.initialized = 1
        handler.startElement = { userData, name, attributes in
            guard let userData, let name else { return }
            userData.assumingMemoryBound(to: ElementScanner.self).pointee.elementStarted(name, attributes)
        }
        // No end callback until an element matches (see `openMatches`).
        handler.endElement = nil
        let created: htmlParserCtxtPtr?
        switch mode {
        case .push:
            // The handler is copied into the context; the input stays UTF-8 (see ParseInput).
            created = htmlCreatePushParserCtxt(
                &handler, UnsafeMutableRawPointer(scanner), nil, 0, nil, XML_CHAR_ENCODING_UTF8)
        case .pull:
            created = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                htmlCreateMemoryParserCtxt($0, Int32(bytes.count))
            }
            if let created {
                created.pointee.sax.pointee = handler
                created.pointee.userData = UnsafeMutableRawPointer(scanner)
                // Without this libxml2 2.9.14 guesses at the first non-ASCII byte and converts the
                // rest to ISO-8859-1, moving every later position.
                created.pointee.charset = Int32(XML_CHAR_ENCODING_UTF8.rawValue)
            }
        }
        guard let context = created else {
            result.failure = "the HTML parser could not start"
            return (result, true, false)
        }
        defer { htmlFreeParserCtxt(context) }
        scanner.pointee.context = context
        _ = htmlCtxtUseOptions(context, options)
        var cutShort = false
        withExtendedLifetime(program) {
            switch mode {
            case .push:
                let end = firstChunkEnd ?? bytes.count
                _ = (base + skip).withMemoryRebound(to: CChar.self, capacity: end - skip) {
                    htmlParseChunk(context, $0, Int32(end - skip), end == bytes.count ? 1 : 0)
                }
                guard end < bytes.count else { return }
                if scanner.pointee.stopped {
                    cutShort = scanner.pointee.stopPosition >= end - 1
                } else if scanner.pointee.outOfStep {
                    return
                } else if scanner.pointee.position >= end {
                    cutShort = true
                } else {
                    _ = (base + end).withMemoryRebound(to: CChar.self, capacity: bytes.count - end) {
                        htmlParseChunk(context, $0, Int32(bytes.count - end), 1)
                    }
                }
            case .pull:
                _ = htmlParseDocument(context)
            }
        }
        if cutShort { return (result, false, true) }
        let complete =
            mode == .pull || scanner.pointee.stopped
            || (!scanner.pointee.outOfStep && context.pointee.nameNr == 0
                && isInert(bytes, from: scanner.pointee.position))
        scanner.pointee.finish()
        if scanner.pointee.outOfStep {
            result.failure = "the parser's element events did not nest; the page was left unchanged"
            return (result, complete, false)
        }
        for (index, list) in scanner.pointee.found.enumerated() {
            result.elements[index] = list.sorted { $0.1 < $1.1 }.map(\.0)
        }
        result.problems = scanner.pointee.problems
        result.stoppedEarly = scanner.pointee.stopped
        return (result, complete, false)
    }

    /// Whether `bytes[offset...]` holds only whitespace and complete comments, which a parser that
    /// stopped there could not have drawn an element from.
    static func isInert(_ bytes: UnsafeBufferPointer<UInt8>, from offset: Int) -> Bool {
        var index = offset
        while index < bytes.count {
            if isHTMLWhitespace(bytes[index]) {
                index += 1
                continue
            }
            guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "<"), bytes[index + 1] == UInt8(ascii: "!"),
                bytes[index + 2] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: "-"),
                let end = ByteSearch.first(Self.commentEnd, in: bytes, from: index + 4)
            else { return false }
            index = end + 3
        }
        return true
    }

    /// Whether a `<!DOCTYPE` (any case) comes anywhere but first in the page (after only
    /// whitespace and comments): text or a tag before it, or a second one.
    static func hasLateDoctype(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        while index < bytes.count {
            if isHTMLWhitespace(bytes[index]) {
                index += 1
            } else if index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "<"),
                bytes[index + 1] == UInt8(ascii: "!"),
                bytes[index + 2] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: "-"),
                let end = ByteSearch.first(Self.commentEnd, in: bytes, from: index + 4)
            {
                index = end + 3
            } else {
                break
            }
        }
        // The leading doctype, if any, is passed over; any other one is late.
        var start = 0
        if index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "<"), isDoctype(bytes, at: index + 1) {
            start = index + 2
        }
        // `!` is rare in a page, `<` is not: find the former and look back.
        start = max(start, 1)
        while start < bytes.count, let found = ByteSearch.first(Self.exclamationMark, in: bytes, from: start) {
            if bytes[found - 1] == UInt8(ascii: "<"), isDoctype(bytes, at: found) { return true }
            start = found + 1
        }
        return false
    }

    /// Whether `!doctype` (any case) starts at `offset`.
    private static func isDoctype(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> Bool {
        offset + 8 <= bytes.count && bytes[offset] == UInt8(ascii: "!")
            && (0..<7).allSatisfy { asciiLowercased(bytes[offset + 1 + $0]) == Self.doctype[$0] }
    }

    private static let exclamationMark: [UInt8] = [UInt8(ascii: "!")]
    private static let doctype = Array("doctype".utf8)
    private static let commentEnd = Array("-->".utf8)

    /// The parser's input position as a page offset. A static function of the two values it
    /// reads: a method on `self` called from the mutating callbacks makes Swift copy the whole
    /// scanner (320 bytes) first, on every element.
    @inline(__always)
    private static func position(_ context: htmlParserCtxtPtr?, _ inputOffset: Int) -> Int {
        guard let input = context?.pointee.input else { return 0 }
        return inputOffset + Int(input.pointee.consumed) + (input.pointee.cur - input.pointee.base)
    }

    private var position: Int { Self.position(context, inputOffset) }

    // MARK: - Callbacks

    // The callbacks run for every element of the page: they keep to a few loads and bit
    // operations, and everything rarer (a match, a dropped element, growth) is out of line so the
    // common path carries none of its set-up.

    @inline(__always)
    private mutating func elementStarted(
        _ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
    ) {
        guard !stopped, !outOfStep, let context else { return }
        // libxml2 has pushed this element. The elements it closed since the last event (without
        // an end callback while nothing is tracked, or dropped because their start tag had no
        // `>`) are popped here.
        let parentDepth = Int(context.pointee.nameNr) &- 1
        if count > parentDepth {
            if openMatches == 0, parentDepth >= 0 { count = parentDepth } else { dropUnclosed(downTo: parentDepth) }
        }
        // Every element libxml2 pushes has a start event, so its stack below this element is
        // ours: the same depth, and the parent under the same (interned) name.
        guard count == parentDepth, count == 0 || stack[count &- 1].name == context.pointee.nameTab[count &- 1] else {
            outOfStep = true
            return
        }
        let depth = count
        if depth == capacity { grow() }
        let siblingIndex: Int
        var insideMatch = false
        if depth == 0 {
            topLevelCount &+= 1
            siblingIndex = topLevelCount
        } else {
            stack[depth &- 1].childCount &+= 1
            siblingIndex = stack[depth &- 1].childCount
            insideMatch = stack[depth &- 1].tracked
        }
        (stack + depth).initialize(
            to: OpenElement(name: name, childCount: 0, contentFloor: 0, match: -1, tracked: insideMatch))
        count = depth &+ 1
        let isSubject = matchCompounds(depth: depth, name: name, attributes: attributes, siblingIndex: siblingIndex)
        if isSubject || insideMatch {
            started(depth: depth, name: name, isSubject: isSubject)
        } else if openMatches == 0, horizon != Int.max {
            // The early stop is checked at every 16th start event outside matches (and at the end
            // of every match), after this element was matched: an element that did not match and
            // every later one, whose start tag comes after the input position, are past the
            // horizon. Stopping a few elements later than possible only parses a few more bytes.
            stopCountdown &-= 1
            if stopCountdown <= 0 {
                stopCountdown = 16
                let offset = Self.position(context, inputOffset)
                if offset > horizon { stop(at: offset) }
            }
        }
    }

    /// Turns libxml2's end callback on while a matched element is open, off otherwise.
    @inline(never)
    private func listenForEnds(_ listening: Bool) {
        context?.pointee.sax.pointee.endElement = listening ? endHandler : nil
    }

    @inline(never)
    private mutating func started(depth: Int, name: UnsafePointer<UInt8>, isSubject: Bool) {
        let offset = Self.position(context, inputOffset)
        stack[depth].contentFloor = offset < bytes.count && bytes[offset] == UInt8(ascii: ">") ? offset + 1 : offset
        if isSubject { recordStart(name: name, offset: offset) }
    }

    @inline(__always)
    private mutating func elementEnded(_ name: UnsafePointer<UInt8>) {
        guard !stopped, !outOfStep, let context else { return }
        let parserDepth = Int(context.pointee.nameNr)
        if count > 0, count > parserDepth { dropUnclosed(downTo: parserDepth) }
        // Names are interned in the parser's dictionary, so the pointers are usually equal.
        guard count > 0, stack[count &- 1].name == name || xmlStrEqual(stack[count &- 1].name, name) != 0 else {
            outOfStep = true
            return
        }
        count &-= 1
        if stack[count].tracked { ended(stack[count]) }
    }

    /// The end of a matched element or of an element inside one.
    @inline(never)
    private mutating func ended(_ element: OpenElement) {
        let offset = Self.position(context, inputOffset)
        let boundary: (contentEnd: Int, end: Int)?
        if element.match >= 0, !pending[element.match].hasContent, offset == pending[element.match].startTagEnd {
            boundary = (offset, offset)
        } else {
            boundary = locateEnd(of: element, at: offset)
        }
        if count > 0, stack[count - 1].tracked {
            stack[count - 1].contentFloor = max(stack[count - 1].contentFloor, boundary?.end ?? offset)
        }
        if element.match >= 0 {
            openMatches -= 1
            if openMatches == 0 { listenForEnds(false) }
            let match = pending[element.match]
            if let boundary, boundary.contentEnd >= match.startTagEnd {
                let located = ElementBoundary(
                    startTagStart: match.startTagStart, startTagEnd: match.startTagEnd, contentEnd: boundary.contentEnd,
                    end: boundary.end, hasContent: match.hasContent)
                for selector in pendingSelectors[match.selectors] {
                    found[selector].append((located, match.startTagStart))
                }
            } else {
                let problem =
                    "the end of <\(String(cString: match.name))> at byte \(match.startTagStart) could not be located in the page"
                for selector in pendingSelectors[match.selectors] { problems[selector].append(problem) }
            }
        }
        if openMatches == 0, offset > horizon { stop(at: offset) }
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let words = wordCount
        let newStack = UnsafeMutablePointer<OpenElement>.allocate(capacity: newCapacity)
        newStack.moveInitialize(from: stack, count: count)
        stack.deallocate()
        stack = newStack
        prefix = Self.grown(prefix, from: capacity * words, to: newCapacity * words)
        inherited = Self.grown(inherited, from: capacity * words, to: newCapacity * words)
        capacity = newCapacity
    }

    private static func grown(
        _ words: UnsafeMutablePointer<UInt64>, from oldCount: Int, to newCount: Int
    ) -> UnsafeMutablePointer<UInt64> {
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: newCount)
        grown.initialize(repeating: 0, count: newCount)
        grown.update(from: words, count: oldCount)
        words.deallocate()
        return grown
    }

    // MARK: - Matching

    /// Sets the element's `prefix` and `inherited` bits, testing only the compounds that can match
    /// at this depth: the first compound of each enabled alternative, and those whose previous
    /// compound matched the parent (`>`) or an ancestor (descendant). Returns whether the element
    /// is the subject of any selector (then `matchedSelectors` lists them).
    @inline(__always)
    private mutating func matchCompounds(
        depth: Int, name: UnsafePointer<UInt8>, attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?,
        siblingIndex: Int
    ) -> Bool {
        var facts = ElementFacts(
            name: name, attributes: attributes, id: nil, classList: nil, siblingIndex: siblingIndex)
        var identityRead = !needsIdentity
        var subjects: UInt64 = 0
        if wordCount == 1 {
            // Up to 64 compounds (any realistic set of changes): one word, no carries.
            let parentPrefix = depth > 0 ? prefix[depth &- 1] : 0
            let ancestors = depth > 0 ? inherited[depth &- 1] | parentPrefix : 0
            inherited[depth] = ancestors
            let candidates = firstBits[0] | (parentPrefix << 1 & childBits[0]) | (ancestors << 1 & descendantBits[0])
            let matched = candidates == 0 ? 0 : test(candidates, word: 0, &facts, &identityRead)
            prefix[depth] = matched
            subjects = matched & lastBits[0]
            guard subjects != 0 else { return false }
        } else {
            let words = wordCount
            let here = depth &* words
            var parentCarry: UInt64 = 0
            var ancestorCarry: UInt64 = 0
            for word in 0..<words {
                let parentPrefix = depth > 0 ? prefix[here &- words &+ word] : 0
                let ancestors = depth > 0 ? inherited[here &- words &+ word] | parentPrefix : 0
                inherited[here &+ word] = ancestors
                // Bit b follows bit b - 1 of the same alternative: shift the ancestors' bits up by one.
                let candidates =
                    firstBits[word] | ((parentPrefix << 1 | parentCarry) & childBits[word])
                    | ((ancestors << 1 | ancestorCarry) & descendantBits[word])
                parentCarry = parentPrefix >> 63
                ancestorCarry = ancestors >> 63
                let matched = candidates == 0 ? 0 : test(candidates, word: word, &facts, &identityRead)
                prefix[here &+ word] = matched
                subjects |= matched & lastBits[word]
            }
            guard subjects != 0 else { return false }
        }
        matchedSelectors.removeAll(keepingCapacity: true)
        let here = depth &* wordCount
        for word in 0..<wordCount {
            var subjects = prefix[here &+ word] & lastBits[word]
            while subjects != 0 {
                let selector = bits[word << 6 | subjects.trailingZeroBitCount].selector
                subjects &= subjects &- 1
                if !matchedSelectors.contains(selector) { matchedSelectors.append(selector) }
            }
        }
        return true
    }

    /// The candidate compounds of one word that the element matches: a quick test on the id and
    /// class mask first (most elements fail it), then the full compound.
    @inline(__always)
    private mutating func test(
        _ candidates: UInt64, word: Int, _ facts: inout ElementFacts, _ identityRead: inout Bool
    ) -> UInt64 {
        if !identityRead {
            Self.readIdentity(&facts, classNames, classNameLengths)
            identityRead = true
        }
        var candidates = candidates
        var matched: UInt64 = 0
        while candidates != 0 {
            let bit = candidates.trailingZeroBitCount
            candidates &= candidates &- 1
            let info = bits[word << 6 | bit]
            guard facts.classes & info.requiredClasses == info.requiredClasses else { continue }
            if let id = info.requiredId {
                guard let actual = facts.id, CBytes.equal(actual, id) else { continue }
            }
            if matcher.matches(compound: info.compound, facts) { matched |= 1 << UInt64(bit) }
        }
        return matched
    }

    /// The `id` and `class` values, looked up once per element and only when a compound needs them.
    private static func readIdentity(
        _ facts: inout ElementFacts, _ classNames: UnsafeMutableBufferPointer<SelectorProgram.Bytes>,
        _ classNameLengths: UInt64
    ) {
        guard let attributes = facts.attributes else { return }
        var index = 0
        while let attributeName = attributes[index] {
            if attributeName[0] == UInt8(ascii: "i"), attributeName[1] == UInt8(ascii: "d"), attributeName[2] == 0 {
                if facts.id == nil { facts.id = attributes[index + 1] ?? UnsafePointer(CBytes.empty) }
            } else if facts.classList == nil, attributeName[0] == UInt8(ascii: "c"),
                attributeName[1] == UInt8(ascii: "l"),
                attributeName[2] == UInt8(ascii: "a"), attributeName[3] == UInt8(ascii: "s"),
                attributeName[4] == UInt8(ascii: "s"),
                attributeName[5] == 0
            {
                facts.classList = attributes[index + 1] ?? UnsafePointer(CBytes.empty)
            }
            index += 2
        }
        if let classList = facts.classList, classNameLengths != 0 {
            facts.classes = CBytes.wordMask(classList, classNames, lengths: classNameLengths)
        }
    }

    // MARK: - Boundaries

    private mutating func recordStart(name: UnsafePointer<UInt8>, offset: Int) {
        var startTagEnd: Int?
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ">") {
            startTagEnd = offset + 1
        } else if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "/"), bytes[offset + 1] == UInt8(ascii: ">") {
            startTagEnd = offset + 2
        }
        guard let startTagEnd, let tag = findStartTag(name: name, endingAt: startTagEnd) else {
            let problem =
                "<\(String(cString: name))> near byte \(offset) has no start tag of its own in the page (the parser implied it)"
            for selector in matchedSelectors { problems[selector].append(problem) }
            return
        }
        let first = pendingSelectors.count
        pendingSelectors.append(contentsOf: matchedSelectors)
        pending.append(
            PendingMatch(
                selectors: first..<pendingSelectors.count, startTagStart: tag.start, startTagEnd: startTagEnd,
                hasContent: !(tag.selfClosing || Self.isVoidElement(name)), name: name))
        stack[count - 1].match = pending.count - 1
        stack[count - 1].tracked = true
        stack[count - 1].contentFloor = startTagEnd
        openMatches += 1
        if openMatches == 1 { listenForEnds(true) }
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
            if let tag = StartTag(
                UnsafeBufferPointer(rebasing: bytes[..<end]), at: candidate, collectingAttributes: false),
                tag.end == end,
                tag.hasName(name, in: bytes)
            {
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
        if let base = bytes.baseAddress, offset > element.contentFloor, offset <= bytes.count,
            bytes[offset - 1] == UInt8(ascii: ">")
        {
            // The end tag just read: normally the last `<` before its `>`. libxml2 also takes a
            // malformed one (`</a` then anything up to the next `>`, `</p">`): then it is the first
            // `</` after the last other `>`.
            var candidates: [Int] = []
            if let found = memrchr(
                base + element.contentFloor, Int32(UInt8(ascii: "<")), offset - 1 - element.contentFloor)
            {
                candidates.append(UnsafeRawPointer(found) - UnsafeRawPointer(base))
            }
            let previous = memrchr(
                base + element.contentFloor, Int32(UInt8(ascii: ">")), offset - 1 - element.contentFloor)
            let searchFrom = previous.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) + 1 } ?? element.contentFloor
            if let found = ByteSearch.first(
                Self.endTagOpen, in: UnsafeBufferPointer(rebasing: bytes[..<(offset - 1)]), from: searchFrom),
                found != candidates.first
            {
                candidates.append(found)
            }
            for tagStart in candidates {
                guard let name = Self.endTagName(bytes, at: tagStart, before: offset) else { continue }
                if Self.namesEqual(element.name, name, in: bytes) { return (tagStart, offset) }
                // One end tag can close thousands of open elements; the ancestor it names is found once.
                if ancestorEndTag == tagStart { return (tagStart, tagStart) }
                if closesAncestor(of: element, name) {
                    ancestorEndTag = tagStart
                    return (tagStart, tagStart)
                }
            }
        }
        switch mode {
        case .push:
            // Closed by the start tag whose name the parser has just read.
            if let tagStart = startTagOpening(nameEndingAt: offset), tagStart >= element.contentFloor {
                return (tagStart, tagStart)
            }
            if offset == bytes.count { return (offset, offset) }
        case .pull:
            if offset == bytes.count { return (offset, offset) }
            if offset < bytes.count, offset >= element.contentFloor, bytes[offset] == UInt8(ascii: "<") {
                return (offset, offset)
            }
        }
        return nil
    }

    private static let endTagOpen = Array("</".utf8)

    /// The name of the end tag at `tagStart` (`</name`), read with libxml2's name characters.
    private static func endTagName(
        _ bytes: UnsafeBufferPointer<UInt8>, at tagStart: Int, before limit: Int
    ) -> Range<Int>? {
        let nameStart = tagStart + 2
        guard nameStart < limit, bytes[tagStart + 1] == UInt8(ascii: "/"), isNameStart(bytes[nameStart]) else {
            return nil
        }
        var nameEnd = nameStart + 1
        while nameEnd < limit, isNameCharacter(bytes[nameEnd]) { nameEnd += 1 }
        return nameStart..<nameEnd
    }

    /// libxml2's `htmlParseHTMLName`: a letter, `_`, `:` or `.`, then also digits and `-`.
    private static func isNameStart(_ byte: UInt8) -> Bool {
        isASCIILetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || byte == UInt8(ascii: ".")
    }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
    }

    /// Whether the end tag named by `range` closes `element` (just popped) on its way to an open
    /// ancestor of that name, by libxml2's rule (`htmlAutoCloseOnClose`): a misplaced end tag only
    /// closes elements whose end priority is at most its own.
    private func closesAncestor(of element: OpenElement, _ range: Range<Int>) -> Bool {
        let priority = Self.endPriority(bytes, range)
        guard Self.endPriority(element.name) <= priority else { return false }
        for index in stride(from: count - 1, through: 0, by: -1) {
            if Self.namesEqual(stack[index].name, range, in: bytes) { return true }
            if Self.endPriority(stack[index].name) > priority { return false }
        }
        return false
    }

    /// libxml2 2.9.14's `htmlEndPriority` table; every other element has 100.
    private static let endPriorities: [(name: [UInt8], priority: Int)] = [
        ("div", 150), ("td", 160), ("th", 160), ("tr", 170), ("thead", 180), ("tbody", 180), ("tfoot", 180),
        ("table", 190),
        ("head", 200), ("body", 200), ("html", 220),
    ].map { (Array($0.0.utf8), $0.1) }

    private static func endPriority(_ name: UnsafePointer<UInt8>) -> Int {
        for entry in endPriorities
        where entry.name.indices.allSatisfy({ name[$0] == entry.name[$0] }) && name[entry.name.count] == 0 {
            return entry.priority
        }
        return 100
    }

    private static func endPriority(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int {
        for entry in endPriorities
        where entry.name.count == range.count
            && zip(range, entry.name).allSatisfy({ asciiLowercased(bytes[$0.0]) == $0.1 })
        {
            return entry.priority
        }
        return 100
    }

    /// The `<` of a start tag whose name ends at `offset` (`…<li` with `offset` after `li`), read
    /// back with libxml2's name characters.
    private func startTagOpening(nameEndingAt offset: Int) -> Int? {
        var nameStart = offset
        while nameStart > 0, offset - nameStart < 128, Self.isNameCharacter(bytes[nameStart - 1]) { nameStart -= 1 }
        guard nameStart < offset, nameStart > 0, bytes[nameStart - 1] == UInt8(ascii: "<"),
            Self.isNameStart(bytes[nameStart])
        else { return nil }
        return nameStart - 1
    }

    private static func namesEqual(
        _ name: UnsafePointer<UInt8>, _ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        var index = 0
        for position in range {
            guard name[index] != 0, asciiLowercased(bytes[position]) == name[index] else { return false }
            index += 1
        }
        return name[index] == 0
    }

    /// Pops the open elements above `depth` that libxml2 dropped without an end event.
    @inline(never)
    private mutating func dropUnclosed(downTo depth: Int) {
        while count > 0, count > depth {
            count -= 1
            let element = stack[count]
            guard element.match >= 0 else { continue }
            openMatches -= 1
            if openMatches == 0 { listenForEnds(false) }
            let match = pending[element.match]
            let problem =
                "the start tag of <\(String(cString: match.name))> at byte \(match.startTagStart) is not closed with \">\""
            for selector in pendingSelectors[match.selectors] { problems[selector].append(problem) }
        }
    }

    @inline(never)
    private mutating func stop(at offset: Int) {
        guard let context else { return }
        stopped = true
        stopPosition = offset
        xmlStopParser(context)
    }

    private mutating func finish() {
        dropUnclosed(downTo: 0)
    }

    /// Elements that never have content (WHATWG void elements and the obsolete ones libxml2 treats so).
    static let voidElements: [[UInt8]] = [
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input", "isindex", "keygen",
        "link", "meta", "param", "source", "track", "wbr",
    ].map { Array($0.utf8) }

    static func isVoidElement(_ name: UnsafePointer<UInt8>) -> Bool {
        voidElements.contains { void in void.indices.allSatisfy { name[$0] == void[$0] } && name[void.count] == 0 }
    }
}
