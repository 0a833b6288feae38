/// A line-based unified diff (LCS) for golden-test failures; inputs are small.
enum UnifiedDiff {
    static func diff(expected: String, actual: String, context: Int = 3) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard old.count * new.count <= 25_000_000 else {
            return "(files too large to diff: \(old.count) and \(new.count) lines)"
        }
        var lengths = Array(repeating: Array(repeating: 0, count: new.count + 1), count: old.count + 1)
        for i in stride(from: old.count - 1, through: 0, by: -1) {
            for j in stride(from: new.count - 1, through: 0, by: -1) {
                lengths[i][j] = old[i] == new[j] ? lengths[i + 1][j + 1] + 1 : max(lengths[i + 1][j], lengths[i][j + 1])
            }
        }
        enum Line { case same(String), removed(String), added(String) }
        var lines: [Line] = []
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if i < old.count, j < new.count, old[i] == new[j] {
                lines.append(.same(old[i]))
                i += 1
                j += 1
            } else if i < old.count, j == new.count || lengths[i + 1][j] >= lengths[i][j + 1] {
                lines.append(.removed(old[i]))
                i += 1
            } else {
                lines.append(.added(new[j]))
                j += 1
            }
        }
        var output = "--- expected.html\n+++ actual output\n"
        var index = 0
        while index < lines.count {
            guard case .same = lines[index] else {
                let start = max(0, index - context)
                var end = index
                var quiet = 0
                while end < lines.count, quiet <= context * 2 {
                    if case .same = lines[end] { quiet += 1 } else { quiet = 0 }
                    end += 1
                }
                end = min(lines.count, end - max(0, quiet - context))
                output += "@@ line \(start + 1) @@\n"
                for line in lines[start..<end] {
                    switch line {
                    case .same(let text): output += " \(text)\n"
                    case .removed(let text): output += "-\(text)\n"
                    case .added(let text): output += "+\(text)\n"
                    }
                }
                index = end
                continue
            }
            index += 1
        }
        return output
    }
}
