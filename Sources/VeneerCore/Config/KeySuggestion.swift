/// "Did you mean" for misspelt keys and names: the closest candidate by edit distance, when close enough.
enum KeySuggestion {
    static func closest(to word: String, among candidates: some Sequence<String>) -> String? {
        let lowered = Array(word.lowercased())
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate.lowercased()))
            let limit = max(1, min(3, candidate.count / 3))
            guard distance <= limit else { continue }
            if best == nil || distance < best!.distance { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Levenshtein distance, with a transposition of neighbours counted as one edit.
    static func editDistance(_ left: [Character], _ right: [Character]) -> Int {
        if left.isEmpty { return right.count }
        if right.isEmpty { return left.count }
        var previousPrevious = [Int](repeating: 0, count: right.count + 1)
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let cost = left[i - 1] == right[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, left[i - 1] == right[j - 2], left[i - 2] == right[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            previousPrevious = previous
            previous = current
        }
        return previous[right.count]
    }

    /// `unknown key "dispaly"; did you mean "display"?` or the allowed list when nothing is close.
    static func unknownMessage(_ what: String, _ word: String, allowed: [String]) -> String {
        if let suggestion = closest(to: word, among: allowed) {
            return "unknown \(what) \"\(word)\"; did you mean \"\(suggestion)\"?"
        }
        return "unknown \(what) \"\(word)\"; allowed: \(allowed.joined(separator: ", "))"
    }
}
