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
        case className(Bytes)
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
    }

    struct Chain {
        var selector: Int
        var firstBit: Int
        var compoundCount: Int
        /// The ids the subject must have (ASCII ones): what lets the parser stop early.
        var subjectIds: [[UInt8]]
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
        for (selectorIndex, alternative) in pending {
            let chainIndex = chainList.count
            chainList.append(
                Chain(
                    selector: selectorIndex, firstBit: bitList.count, compoundCount: alternative.compounds.count,
                    subjectIds: alternative.subject.conditions.compactMap { condition -> [UInt8]? in
                        guard case .id(let id) = condition, !id.isEmpty, id.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
                        return Array(id.utf8)
                    },
                    allFragments: alternative.requiredFragments.map { Array($0.utf8) }))
            for (position, compound) in alternative.compounds.enumerated() {
                bitList.append(
                    Bit(
                        compound: compile(compound), chain: chainIndex, selector: selectorIndex, isFirst: position == 0,
                        isLast: position == alternative.compounds.count - 1,
                        combinator: position == 0 ? .descendant : alternative.combinators[position - 1]))
            }
        }
        chains = chainList
        bitCount = bitList.count
        wordCount = max(1, (bitList.count + 63) / 64)
        bits.deallocate()
        enabled.deallocate()
        compounds.deallocate()
        conditions.deallocate()
        bits = .allocate(capacity: bitList.count)
        _ = bits.initialize(from: bitList)
        enabled = .allocate(capacity: chainList.count)
        enabled.initialize(repeating: true)
        compounds = .allocate(capacity: compoundList.count)
        _ = compounds.initialize(from: compoundList)
        conditions = .allocate(capacity: conditionList.count)
        _ = conditions.initialize(from: conditionList)
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        bits.deallocate()
        enabled.deallocate()
        compounds.deallocate()
        conditions.deallocate()
    }

    /// Disables every alternative whose required fragments do not all occur in `page` (the byte
    /// pre-check); returns whether any alternative is still enabled.
    func precheck(_ page: UnsafeBufferPointer<UInt8>) -> Bool {
        var any = false
        for (index, chain) in chains.enumerated() {
            let isEnabled = chain.allFragments.allSatisfy { ByteSearch.first($0, in: page) != nil }
            enabled[index] = isEnabled
            any = any || isEnabled
        }
        return any
    }

    /// The parse offset after which no enabled alternative can match a new element, when every
    /// enabled alternative's subject needs an id: that element's start tag holds the id, so it
    /// starts before the id's last occurrence in the page. `Int.max` otherwise — class and type
    /// selectors repeat through a page, and finding their last occurrence costs a scan of it.
    func horizon(_ page: UnsafeBufferPointer<UInt8>) -> Int {
        var horizon = -1
        for (index, chain) in chains.enumerated() where enabled[index] {
            guard !chain.subjectIds.isEmpty else { return Int.max }
            var chainHorizon = Int.max
            for id in chain.subjectIds {
                chainHorizon = min(chainHorizon, ByteSearch.last(id, in: page) ?? -1)
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
                compiled.append(.className(bytes(name)))
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
        compoundList.append(Compound(typeName: compound.typeName.map { bytes($0) }, conditions: start..<conditionList.count))
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
        case .className(let name):
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
