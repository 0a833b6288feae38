import VeneerCore

/// Selectors compiled for matching against the NUL-terminated names and attribute arrays libxml2
/// hands to SAX callbacks, without building Swift strings per element.
///
/// Each compound of each alternative gets one bit. While parsing, every open element carries two
/// bitsets: `prefix` (bit g: the alternative's compounds up to g match with compound g at this
/// element) and `inherited` (the union of `prefix` over its ancestors). A child combinator reads
/// the parent's `prefix`, a descendant combinator the element's `inherited`; so matching costs
/// O(compounds) per element whatever the depth, with no backtracking.
final class SelectorProgram {
    struct Bytes {
        let pointer: UnsafeMutablePointer<UInt8>
        let count: Int
    }

    /// Trivial (no references) so the per-element loop copies no reference counts.
    enum Condition {
        case id(Bytes)
        /// `index` is the name's place in `classNames`; below 64 the element's class mask answers.
        case className(Bytes, index: Int)
        case attribute(name: Bytes, match: AttributeSelector.Operator?, value: Bytes?, caseInsensitive: Bool)
        case nthChild(a: Int, b: Int)
        /// The index of the negated compound in `compounds`.
        case not(Int)
    }

    struct Compound {
        var typeName: Bytes?
        var conditions: Range<Int>
    }

    /// One bit per compound of each alternative, in alternative order.
    struct Bit {
        var compound: Int
        var chain: Int
        var selector: Int
        var isFirst: Bool
        var isLast: Bool
        /// How this compound links to the previous bit's (unused for the first).
        var combinator: Combinator
        /// What the compound requires that an element's id and class mask answer at once, tested
        /// before the full match: most elements fail here.
        var requiredClasses: UInt64 = 0
        var requiredId: Bytes?
    }

    struct Chain {
        var selector: Int
        var firstBit: Int
        var compoundCount: Int
        /// Text the subject's own start tag must hold (ids, class names, attribute values): what
        /// lets the parser stop early.
        var subjectFragments: [[UInt8]]
        /// Whether the subject needs an id: ids are unique, so such an alternative's horizon is
        /// usually early, and searching for it last keeps the search short (see `horizon`).
        var subjectHasId: Bool
        var allFragments: [[UInt8]]
    }

    let selectors: [CSSSelector]
    private(set) var chains: [Chain] = []
    private(set) var bitCount = 0
    private(set) var wordCount = 1
    /// Whether any condition reads `id` or `class` (so the start callback looks them up).
    private(set) var needsIdentity = false
    private(set) var bits: UnsafeMutableBufferPointer<Bit>
    private(set) var enabled: UnsafeMutableBufferPointer<Bool>
    /// Bit masks over the compounds, `wordCount` words each, so the per-element work visits only
    /// the compounds that can match there: `firstBits` start an enabled alternative; a bit in
    /// `childBits` or `descendantBits` follows the previous bit through that combinator;
    /// `lastBits` end an alternative (its subject).
    private(set) var firstBits: UnsafeMutableBufferPointer<UInt64>
    private(set) var childBits: UnsafeMutableBufferPointer<UInt64>
    private(set) var descendantBits: UnsafeMutableBufferPointer<UInt64>
    private(set) var lastBits: UnsafeMutableBufferPointer<UInt64>
    /// The distinct class names the selectors test, in first-use order: an element's class list
    /// is read once into a mask over the first 64 of them, however many compounds test classes.
    private(set) var classNames: UnsafeMutableBufferPointer<Bytes>
    /// Bit n: one of the first 64 class names is n bytes long (bit 63: 63 or more).
    private(set) var classNameLengths: UInt64 = 0
    private var classNameList: [Bytes] = []
    private var classNameIndex: [String: Int] = [:]
    private var compoundList: [Compound] = []
    private var conditionList: [Condition] = []
    private(set) var compounds: UnsafeMutableBufferPointer<Compound>
    private(set) var conditions: UnsafeMutableBufferPointer<Condition>
    private var allocations: [UnsafeMutablePointer<UInt8>] = []

    init(selectors: [CSSSelector]) {
        self.selectors = selectors
        var bitList: [Bit] = []
        var chainList: [Chain] = []
        var pending: [(Int, ComplexSelector)] = []
        for (index, selector) in selectors.enumerated() {
            for alternative in selector.alternatives { pending.append((index, alternative)) }
        }
        bits = .allocate(capacity: 0)
        enabled = .allocate(capacity: 0)
        compounds = .allocate(capacity: 0)
        conditions = .allocate(capacity: 0)
        classNames = .allocate(capacity: 0)
        firstBits = .allocate(capacity: 0)
        childBits = .allocate(capacity: 0)
        descendantBits = .allocate(capacity: 0)
        lastBits = .allocate(capacity: 0)
        for (selectorIndex, alternative) in pending {
            let chainIndex = chainList.count
            chainList.append(
                Chain(
                    selector: selectorIndex, firstBit: bitList.count, compoundCount: alternative.compounds.count,
                    subjectFragments: alternative.subject.requiredFragments.map { Array($0.utf8) },
                    subjectHasId: alternative.subject.conditions.contains {
                        if case .id = $0 { return true }
                        return false
                    },
                    allFragments: alternative.requiredFragments.map { Array($0.utf8) }))
            for (position, compound) in alternative.compounds.enumerated() {
                var bit = Bit(
                    compound: compile(compound), chain: chainIndex, selector: selectorIndex, isFirst: position == 0,
                    isLast: position == alternative.compounds.count - 1,
                    combinator: position == 0 ? .descendant : alternative.combinators[position - 1])
                for condition in conditionList[compoundList[bit.compound].conditions] {
                    switch condition {
                    case .className(_, let index) where index < 64: bit.requiredClasses |= 1 << UInt64(index)
                    case .id(let id) where bit.requiredId == nil: bit.requiredId = id
                    default: break
                    }
                }
                bitList.append(bit)
            }
        }
        chains = chainList
        bitCount = bitList.count
        wordCount = max(1, (bitList.count + 63) / 64)
        bits.deallocate()
        enabled.deallocate()
        compounds.deallocate()
        conditions.deallocate()
        classNames.deallocate()
        firstBits.deallocate()
        childBits.deallocate()
        descendantBits.deallocate()
        lastBits.deallocate()
        bits = .allocate(capacity: bitList.count)
        _ = bits.initialize(from: bitList)
        enabled = .allocate(capacity: chainList.count)
        enabled.initialize(repeating: true)
        compounds = .allocate(capacity: compoundList.count)
        _ = compounds.initialize(from: compoundList)
        conditions = .allocate(capacity: conditionList.count)
        _ = conditions.initialize(from: conditionList)
        classNames = .allocate(capacity: classNameList.count)
        _ = classNames.initialize(from: classNameList)
        for name in classNameList.prefix(64) { classNameLengths |= 1 << UInt64(min(name.count, 63)) }
        firstBits = .allocate(capacity: wordCount)
        childBits = .allocate(capacity: wordCount)
        descendantBits = .allocate(capacity: wordCount)
        lastBits = .allocate(capacity: wordCount)
        for mask in [firstBits, childBits, descendantBits, lastBits] { mask.initialize(repeating: 0) }
        for (index, bit) in bitList.enumerated() {
            let word = index >> 6
            let mask = UInt64(1) << UInt64(index & 63)
            if bit.isFirst {
                firstBits[word] |= mask
            } else if bit.combinator == .child {
                childBits[word] |= mask
            } else {
                descendantBits[word] |= mask
            }
            if bit.isLast { lastBits[word] |= mask }
        }
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        bits.deallocate()
        enabled.deallocate()
        compounds.deallocate()
        conditions.deallocate()
        classNames.deallocate()
        firstBits.deallocate()
        childBits.deallocate()
        descendantBits.deallocate()
        lastBits.deallocate()
    }

    /// Disables every alternative whose required fragments do not all occur in the page (the byte
    /// pre-check); returns whether any alternative is still enabled.
    func precheck(_ search: inout FragmentSearch) -> Bool {
        var any = false
        for (index, chain) in chains.enumerated() {
            let isEnabled = chain.allFragments.allSatisfy { search.occurs($0) }
            enabled[index] = isEnabled
            if !isEnabled {
                let bit = chain.firstBit
                firstBits[bit >> 6] &= ~(UInt64(1) << UInt64(bit & 63))
            }
            any = any || isEnabled
        }
        return any
    }

    /// The parse offset after which no enabled alternative can match a new element. A subject's
    /// start tag holds every fragment its compound requires (`#hero`, `.cta`, `[href="/x"]`),
    /// after the tag's name; once the parser is past the last occurrence of one of them, no start
    /// tag still to come has it. `Int.max` when an enabled alternative's subject requires no text
    /// (`li`, `div > p`).
    func horizon(_ search: inout FragmentSearch) -> Int {
        guard chains.indices.allSatisfy({ !enabled[$0] || !chains[$0].subjectFragments.isEmpty }) else {
            return Int.max
        }
        // The largest over alternatives of the smallest over an alternative's fragments: once one
        // alternative has set `horizon`, another matters only past it, so only the bytes past it
        // are searched. Class names (which repeat, often to the end) go first, ids last: a late
        // class name makes the searches for early ids short.
        var horizon = -1
        let order =
            chains.indices.filter { !chains[$0].subjectHasId } + chains.indices.filter { chains[$0].subjectHasId }
        for index in order where enabled[index] {
            let chain = chains[index]
            var chainHorizon = Int.max
            for fragment in chain.subjectFragments {
                guard let last = search.last(fragment, after: horizon) else {
                    chainHorizon = -1
                    break
                }
                chainHorizon = min(chainHorizon, last)
            }
            horizon = max(horizon, chainHorizon)
        }
        return horizon
    }

    /// Compiles a compound (and any `:not` inside it); returns its index.
    private func compile(_ compound: CompoundSelector) -> Int {
        var compiled: [Condition] = []
        for condition in compound.conditions {
            switch condition {
            case .id(let id):
                needsIdentity = true
                compiled.append(.id(bytes(id)))
            case .className(let name):
                needsIdentity = true
                let index: Int
                if let known = classNameIndex[name] {
                    index = known
                } else {
                    index = classNameList.count
                    classNameIndex[name] = index
                    classNameList.append(bytes(name))
                }
                compiled.append(.className(classNameList[index], index: index))
            case .attribute(let attribute):
                compiled.append(
                    .attribute(
                        name: bytes(attribute.name), match: attribute.match,
                        value: attribute.value.map { bytes(attribute.caseInsensitive ? $0.lowercased() : $0) },
                        caseInsensitive: attribute.caseInsensitive))
            case .firstChild:
                compiled.append(.nthChild(a: 0, b: 1))
            case .nthChild(let a, let b):
                compiled.append(.nthChild(a: a, b: b))
            case .not(let inner):
                compiled.append(.not(compile(inner)))
            }
        }
        let start = conditionList.count
        conditionList.append(contentsOf: compiled)
        compoundList.append(
            Compound(typeName: compound.typeName.map { bytes($0) }, conditions: start..<conditionList.count))
        return compoundList.count - 1
    }

    private func bytes(_ text: String) -> Bytes {
        let utf8 = Array(text.utf8)
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: utf8.count + 1)
        pointer.initialize(from: utf8, count: utf8.count)
        pointer[utf8.count] = 0
        allocations.append(pointer)
        return Bytes(pointer: pointer, count: utf8.count)
    }
}

/// The facts about one element a compound is checked against.
struct ElementFacts {
    var name: UnsafePointer<UInt8>
    var attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
    var id: UnsafePointer<UInt8>?
    var classList: UnsafePointer<UInt8>?
    /// Bit i: the class list holds `SelectorProgram.classNames[i]` (i < 64).
    var classes: UInt64 = 0
    /// 1-based index among element siblings.
    var siblingIndex: Int
}

extension SelectorProgram {
    /// The compiled compounds as plain buffers, for the per-element loop.
    struct Matcher {
        let compounds: UnsafeMutableBufferPointer<Compound>
        let conditions: UnsafeMutableBufferPointer<Condition>
    }

    var matcher: Matcher { Matcher(compounds: compounds, conditions: conditions) }
}

extension SelectorProgram.Matcher {
    typealias Condition = SelectorProgram.Condition

    func matches(compound index: Int, _ element: ElementFacts) -> Bool {
        let compound = compounds[index]
        if let typeName = compound.typeName, !CBytes.equal(element.name, typeName) { return false }
        for condition in compound.conditions where !matches(conditions[condition], element) { return false }
        return true
    }

    private func matches(_ condition: Condition, _ element: ElementFacts) -> Bool {
        switch condition {
        case .id(let id):
            guard let actual = element.id else { return false }
            return CBytes.equal(actual, id)
        case .className(let name, let index):
            if index < 64 { return element.classes & (1 << UInt64(index)) != 0 }
            guard let classList = element.classList else { return false }
            return CBytes.containsWord(classList, name, caseInsensitive: false)
        case .attribute(let name, let match, let value, let caseInsensitive):
            guard let attributes = element.attributes else { return false }
            var index = 0
            while let attributeName = attributes[index] {
                if CBytes.equal(attributeName, name) {
                    guard let match, let value else { return true }
                    // `<input disabled>`: a valueless attribute has the empty string as its value.
                    let actual = attributes[index + 1] ?? UnsafePointer(CBytes.empty)
                    return CBytes.matches(actual, match, value, caseInsensitive: caseInsensitive)
                }
                index += 2
            }
            return false
        case .nthChild(let a, let b):
            return SimpleSelector.nthChild(a: a, b: b, admits: element.siblingIndex)
        case .not(let inner):
            return !matches(compound: inner, element)
        }
    }
}
