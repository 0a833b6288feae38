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

    indirect enum Condition {
        case id(Bytes)
        case className(Bytes)
        case attribute(name: Bytes, match: AttributeSelector.Operator?, value: Bytes?, caseInsensitive: Bool)
        case nthChild(a: Int, b: Int)
        case not(Compound)
    }

    struct Compound {
        var typeName: Bytes?
        var conditions: [Condition]
    }

    struct Chain {
        /// Which selector (index into `selectors`) this alternative belongs to.
        var selector: Int
        var firstBit: Int
        var compounds: [Compound]
        var combinators: [Combinator]
        var enabled: Bool
        /// Needles the subject's start tag must contain (see `ComplexSelector.requiredFragments`).
        var subjectFragments: [[UInt8]]
        var allFragments: [[UInt8]]
        var lastBit: Int { firstBit + compounds.count - 1 }
    }

    let selectors: [CSSSelector]
    private(set) var chains: [Chain] = []
    let bitCount: Int
    let wordCount: Int
    private var allocations: [UnsafeMutablePointer<UInt8>] = []
    /// Whether any condition reads `id` or `class` (so the start callback looks them up).
    private(set) var needsIdentity = false

    init(selectors: [CSSSelector]) {
        self.selectors = selectors
        var bit = 0
        var pending: [(Int, ComplexSelector, Int)] = []
        for (index, selector) in selectors.enumerated() {
            for alternative in selector.alternatives {
                pending.append((index, alternative, bit))
                bit += alternative.compounds.count
            }
        }
        bitCount = bit
        wordCount = max(1, (bit + 63) / 64)
        for (index, alternative, firstBit) in pending {
            let compounds = alternative.compounds.map { compile($0) }
            chains.append(
                Chain(
                    selector: index, firstBit: firstBit, compounds: compounds, combinators: alternative.combinators, enabled: true,
                    subjectFragments: alternative.subject.requiredFragments.map { Array($0.utf8) },
                    allFragments: alternative.requiredFragments.map { Array($0.utf8) }))
        }
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Disables every alternative whose required fragments do not all occur in `page` (the byte
    /// pre-check); returns whether any alternative is still enabled.
    func precheck(_ page: UnsafeBufferPointer<UInt8>) -> Bool {
        var any = false
        for index in chains.indices {
            let enabled = chains[index].allFragments.allSatisfy { ByteSearch.first($0, in: page) != nil }
            chains[index].enabled = enabled
            any = any || enabled
        }
        return any
    }

    /// The parse offset after which no enabled alternative can match a new element: the start tag
    /// of its subject must contain each subject fragment, so it starts before the last occurrence
    /// of each. `Int.max` when some enabled alternative has no fragment.
    func horizon(_ page: UnsafeBufferPointer<UInt8>) -> Int {
        var horizon = -1
        for chain in chains where chain.enabled {
            guard !chain.subjectFragments.isEmpty else { return Int.max }
            var chainHorizon = Int.max
            for fragment in chain.subjectFragments {
                chainHorizon = min(chainHorizon, ByteSearch.last(fragment, in: page) ?? -1)
            }
            horizon = max(horizon, chainHorizon)
        }
        return horizon
    }

    private func compile(_ compound: CompoundSelector) -> Compound {
        Compound(typeName: compound.typeName.map { bytes($0) }, conditions: compound.conditions.map { compile($0) })
    }

    private func compile(_ condition: SimpleSelector) -> Condition {
        switch condition {
        case .id(let id):
            needsIdentity = true
            return .id(bytes(id))
        case .className(let name):
            needsIdentity = true
            return .className(bytes(name))
        case .attribute(let attribute):
            return .attribute(
                name: bytes(attribute.name), match: attribute.match,
                value: attribute.value.map { bytes(attribute.caseInsensitive ? $0.lowercased() : $0) },
                caseInsensitive: attribute.caseInsensitive)
        case .firstChild:
            return .nthChild(a: 0, b: 1)
        case .nthChild(let a, let b):
            return .nthChild(a: a, b: b)
        case .not(let inner):
            return .not(compile(inner))
        }
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
    func matches(_ compound: Compound, _ element: ElementFacts) -> Bool {
        if let typeName = compound.typeName, !CBytes.equal(element.name, typeName) { return false }
        for condition in compound.conditions where !matches(condition, element) { return false }
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
            return !matches(inner, element)
        }
    }
}
