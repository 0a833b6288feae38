import VeneerCore

/// Turns located elements and rendered changes into byte edits and splices them into the page.
///
/// Edits are accepted in change order; one that overlaps an edit already accepted (say, an
/// `inner` inside an element an earlier change replaced) is skipped and reported. Insertions at
/// the same offset keep change order; an insertion at the start of a replaced range goes before
/// it, one at its end after it.
struct PageSplicer {
    private struct Candidate {
        var range: Range<Int>
        var replacement: [UInt8]
        var changeIndices: [Int]
        var order: Int
    }

    /// Attribute edits with their values already escaped and encoded for the page.
    private enum AttributeOperation {
        case set(name: [UInt8], value: [UInt8]?)
        case addClasses([[UInt8]])
        case removeClasses([[UInt8]])
    }

    /// What a change inserts, encoded once for all the elements it matches.
    private struct PreparedChange {
        var content: [UInt8]?
        var attributeOperation: AttributeOperation?
        var problem: String?
    }

    private let page: UnsafeBufferPointer<UInt8>
    private let charset: PageCharset
    private var candidates: [Candidate] = []
    private var skipped: [SkippedChange] = []
    /// Attribute operations per element, in change order; `attributeEditIndex` maps an element's
    /// start tag offset to its entry (the list is appended to in place, the map only read).
    private var attributeEdits: [(boundary: ElementBoundary, operations: [(Int, AttributeOperation)])] = []
    private var attributeEditIndex: [Int: Int] = [:]

    init(page: UnsafeBufferPointer<UInt8>, charset: PageCharset) {
        self.page = page
        self.charset = charset
    }

    /// `selectorIndex[i]` is the index in `scan` of change `i`'s selector.
    /// `buildsOutput: false` leaves `output` empty: the caller splices the edits itself.
    mutating func apply(
        _ changes: [RenderedChange], selectorIndex: [Int], scan: ScanResult, buildsOutput: Bool = true
    ) -> RewriteResult {
        // Sized once: growing the map element by element rehashes it every time it doubles.
        attributeEditIndex.reserveCapacity(scan.elements.reduce(0) { $0 + $1.count })
        for (index, change) in changes.enumerated() {
            let selector = change.selector.source
            if let problem = change.problem {
                skip(selector, problem)
                continue
            }
            if let failure = scan.failure {
                skip(selector, failure)
                continue
            }
            let elements = scan.elements[selectorIndex[index]]
            for problem in scan.problems[selectorIndex[index]] { skip(selector, problem) }
            if elements.isEmpty {
                if scan.problems[selectorIndex[index]].isEmpty { skip(selector, "no element matches") }
                continue
            }
            let prepared = prepare(change)
            if let problem = prepared.problem {
                skip(selector, problem)
                continue
            }
            for element in elements {
                guard element.isConsistent(with: page) else {
                    skip(
                        selector,
                        "the boundaries of the element at byte \(element.startTagStart) do not fit the page bytes")
                    continue
                }
                plan(change, prepared, index: index, element: element)
            }
        }
        planAttributeEdits(changes)
        return splice(changes, buildsOutput: buildsOutput)
    }

    private mutating func skip(_ selector: String, _ reason: String) {
        skipped.append(SkippedChange(selector: selector, reason: reason))
    }

    private mutating func add(_ range: Range<Int>, _ replacement: [UInt8], change: Int) {
        candidates.append(
            Candidate(range: range, replacement: replacement, changeIndices: [change], order: candidates.count))
    }

    private func prepare(_ change: RenderedChange) -> PreparedChange {
        var prepared = PreparedChange()
        switch change.action {
        case .replace, .inner, .before, .after, .prepend, .append:
            if let html = change.html {
                prepared.content = charset.encode(html)
            } else if let text = change.text {
                prepared.content = charset.encode(HTMLEscaping.text(text))
            } else {
                prepared.problem = "action \"\(change.action.rawValue)\" has no html, template or text to insert"
            }
        case .text:
            prepared.content = charset.encode(HTMLEscaping.text(change.text ?? change.html ?? ""))
        case .remove:
            prepared.content = []
        case .attribute:
            guard let name = change.name, HTMLEscaping.isValidAttributeName(name) else {
                prepared.problem = "\"\(change.name ?? "")\" is not a valid attribute name"
                break
            }
            prepared.attributeOperation = .set(
                name: Array(name.lowercased().utf8),
                value: change.value.map { charset.encode(HTMLEscaping.attribute($0)) })
        case .style:
            prepared.attributeOperation = .set(
                name: Array("style".utf8), value: change.value.map { charset.encode(HTMLEscaping.attribute($0)) })
        case .addClass, .removeClass:
            // Split as HTML splits a class attribute, on ASCII whitespace (and by bytes: by Characters, every page
            // asked Unicode's tables about each one).
            let names = (change.value ?? "").utf8.split(whereSeparator: isHTMLWhitespace).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard !names.isEmpty else {
                prepared.problem = "action \"\(change.action.rawValue)\" needs a class name in value"
                break
            }
            prepared.attributeOperation =
                change.action == .addClass
                ? .addClasses(names.map { charset.encode(HTMLEscaping.attribute($0)) })
                : .removeClasses(names.map { Array($0.utf8) })
        }
        return prepared
    }

    private mutating func plan(
        _ change: RenderedChange, _ prepared: PreparedChange, index: Int, element: ElementBoundary
    ) {
        if let operation = prepared.attributeOperation {
            addAttributeOperation(operation, index: index, element: element)
            return
        }
        guard let content = prepared.content else { return }
        let inside: Bool
        switch change.action {
        case .inner, .text, .prepend, .append: inside = true
        default: inside = false
        }
        if inside && !element.hasContent {
            skip(
                change.selector.source,
                "the element at byte \(element.startTagStart) is void and has no content for \"\(change.action.rawValue)\""
            )
            return
        }
        switch change.action {
        case .replace, .remove: add(element.outer, content, change: index)
        case .inner, .text: add(element.inner, content, change: index)
        case .before: add(element.startTagStart..<element.startTagStart, content, change: index)
        case .after: add(element.end..<element.end, content, change: index)
        case .prepend: add(element.startTagEnd..<element.startTagEnd, content, change: index)
        case .append: add(element.contentEnd..<element.contentEnd, content, change: index)
        case .attribute, .style, .addClass, .removeClass: break
        }
    }

    private mutating func addAttributeOperation(_ operation: AttributeOperation, index: Int, element: ElementBoundary) {
        if let existing = attributeEditIndex[element.startTagStart] {
            attributeEdits[existing].operations.append((index, operation))
        } else {
            attributeEditIndex[element.startTagStart] = attributeEdits.count
            attributeEdits.append((element, [(index, operation)]))
        }
    }

    private mutating func planAttributeEdits(_ changes: [RenderedChange]) {
        for (element, operations) in attributeEdits {
            let start = element.startTagStart
            guard let tag = StartTag(page, at: start), tag.end == element.startTagEnd else {
                for (index, _) in operations {
                    skip(changes[index].selector.source, "the start tag at byte \(start) could not be read")
                }
                continue
            }
            let indices = operations.map(\.0)
            if operations.count == 1, case .addClasses(let names) = operations[0].1,
                let replacement = EditableTag.addingClasses(names, to: tag, in: page)
            {
                candidates.append(
                    Candidate(
                        range: element.startTag, replacement: replacement, changeIndices: indices,
                        order: candidates.count))
                continue
            }
            var editable = EditableTag(tag, in: page)
            for (_, operation) in operations {
                switch operation {
                case .set(let name, let value): editable.set(name, value: value)
                case .addClasses(let names): editable.addClasses(names)
                case .removeClasses(let names): editable.removeClasses(names)
                }
            }
            candidates.append(
                Candidate(
                    range: element.startTag, replacement: editable.bytes, changeIndices: indices,
                    order: candidates.count))
        }
    }

    /// The accepted edit `range` collides with: a replacement it overlaps, or for a replacement, an
    /// insertion strictly inside it; for an insertion, a replacement strictly around it.
    private static func conflict(_ range: Range<Int>, _ replaced: [Candidate], _ inserted: [Candidate]) -> Candidate? {
        // The first replacement ending after `range` starts (replacements are sorted and disjoint).
        func firstReplacement(endingAfter offset: Int) -> Int {
            var low = 0
            var high = replaced.count
            while low < high {
                let middle = (low + high) / 2
                if replaced[middle].range.upperBound > offset { high = middle } else { low = middle + 1 }
            }
            return low
        }
        if range.isEmpty {
            let index = firstReplacement(endingAfter: range.lowerBound)
            if index < replaced.count, replaced[index].range.lowerBound < range.lowerBound { return replaced[index] }
            return nil
        }
        let index = firstReplacement(endingAfter: range.lowerBound)
        if index < replaced.count, replaced[index].range.lowerBound < range.upperBound { return replaced[index] }
        var low = 0
        var high = inserted.count
        while low < high {
            let middle = (low + high) / 2
            if inserted[middle].range.lowerBound > range.lowerBound { high = middle } else { low = middle + 1 }
        }
        if low < inserted.count, inserted[low].range.lowerBound < range.upperBound { return inserted[low] }
        return nil
    }

    private mutating func splice(_ changes: [RenderedChange], buildsOutput: Bool) -> RewriteResult {
        // Change order first, then document order within a change.
        let ordered = candidates.sorted {
            ($0.changeIndices.min()!, $0.range.lowerBound, $0.order) < (
                $1.changeIndices.min()!, $1.range.lowerBound, $1.order
            )
        }
        var accepted: [Candidate] = []
        // Per change (group), the accepted replacements and insertions: each list is sorted, as a
        // change's edits come in document order and its replacements are disjoint. Checking a
        // candidate is a binary search per earlier change, so a change matching 50,000 elements
        // costs n log n, not n².
        var groups: [(replaced: [Candidate], inserted: [Candidate])] = []
        var groupOfChange: [Int: Int] = [:]
        for candidate in ordered {
            let change = candidate.changeIndices.min()!
            if let other = groups.lazy.compactMap({ Self.conflict(candidate.range, $0.replaced, $0.inserted) }).first {
                for index in candidate.changeIndices {
                    skip(
                        changes[index].selector.source,
                        "the edit at bytes \(candidate.range.lowerBound)..<\(candidate.range.upperBound) overlaps the edit of an earlier change (\(changes[other.changeIndices[0]].selector.source), bytes \(other.range.lowerBound)..<\(other.range.upperBound))"
                    )
                }
                continue
            }
            let group: Int
            if let existing = groupOfChange[change] {
                group = existing
            } else {
                group = groups.count
                groups.append(([], []))
                groupOfChange[change] = group
            }
            if candidate.range.isEmpty {
                groups[group].inserted.append(candidate)
            } else {
                groups[group].replaced.append(candidate)
            }
            accepted.append(candidate)
        }
        let appliedChanges = Set(accepted.flatMap(\.changeIndices))
        // An edit that writes back the same bytes (adding a class the element already has) changes nothing.
        accepted.removeAll { $0.replacement.elementsEqual(UnsafeBufferPointer(rebasing: page[$0.range])) }
        guard !accepted.isEmpty else {
            // The caller substitutes the input array itself, so an unchanged page is not copied.
            return RewriteResult(output: [], applied: appliedChanges.count, skipped: skipped, changed: false)
        }
        accepted = accepted.enumerated().sorted { left, right in
            let a = left.element
            let b = right.element
            if a.range.lowerBound != b.range.lowerBound { return a.range.lowerBound < b.range.lowerBound }
            if a.range.isEmpty != b.range.isEmpty { return a.range.isEmpty }
            return left.offset < right.offset
        }.map(\.element)
        var output: [UInt8] = []
        if buildsOutput { output.reserveCapacity(page.count + accepted.reduce(0) { $0 + $1.replacement.count }) }
        var cursor = 0
        for edit in accepted where buildsOutput {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: page[cursor..<edit.range.lowerBound]))
            output.append(contentsOf: edit.replacement)
            cursor = edit.range.upperBound
        }
        if buildsOutput { output.append(contentsOf: UnsafeBufferPointer(rebasing: page[cursor..<page.count])) }
        let edits = accepted.map {
            SplicedEdit(range: $0.range, replacement: $0.replacement, changeIndex: $0.changeIndices.min()!)
        }
        return RewriteResult(
            output: output, applied: appliedChanges.count, skipped: skipped, changed: true, edits: edits)
    }
}
