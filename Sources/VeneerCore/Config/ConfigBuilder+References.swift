/// Checks that need the whole file: segment references and cycles, unique selectors, route names and groups.
extension ConfigBuilder {
    mutating func readSegments(_ node: ConfigNode?) -> [Segment] {
        let path = ConfigPath.root.appending("segment")
        var segments: [Segment] = []
        var seen: Set<String> = []
        for (table, segmentPath) in tables(node, at: path) {
            checkKeys(table, at: segmentPath, allowed: ["name", "audience"])
            let name = requiredString(table, "name", at: segmentPath, example: "\"big-spenders\"")
            if let name, !seen.insert(name).inserted {
                error(segmentPath.appending("name"), "duplicate segment name \"\(name)\"")
            }
            guard let audienceNode = table["audience"] else {
                error(
                    segmentPath,
                    "missing audience; write audience = { event = \"Purchase\", at_least = 3, within = \"90d\" }")
                continue
            }
            currentSegment = name
            let audience = self.audience(audienceNode, at: segmentPath.appending("audience"))
            currentSegment = nil
            if let name, let audience { segments.append(Segment(name: name, audience: audience)) }
        }
        return segments
    }

    /// Every `{ segment = "…" }` names a segment, and no segment reaches itself.
    mutating func checkSegmentReferences(declared: [String]) {
        let known = Set(declared)
        var edges: [String: [(target: String, path: ConfigPath)]] = [:]
        for reference in segmentReferences {
            guard known.contains(reference.name) else {
                let suggestion = KeySuggestion.closest(to: reference.name, among: declared).map {
                    "; did you mean \"\($0)\"?"
                }
                let list =
                    declared.isEmpty
                    ? "; no [[segment]] is declared" : "; declared: \(declared.joined(separator: ", "))"
                error(reference.path, "segment \"\(reference.name)\" does not exist\(suggestion ?? list)")
                continue
            }
            if let owner = reference.owner {
                if owner == reference.name {
                    error(reference.path, "segment \"\(owner)\" refers to itself")
                } else {
                    edges[owner, default: []].append((reference.name, reference.path))
                }
            }
        }
        // Each cycle is reported once, at the reference that closes it.
        var state: [String: Int] = [:]  // 1 = on the current path, 2 = done
        var stack: [String] = []
        func visit(_ segment: String, _ builder: inout ConfigBuilder) {
            state[segment] = 1
            stack.append(segment)
            for edge in edges[segment] ?? [] {
                switch state[edge.target] {
                case 1:
                    let cycle = stack[stack.lastIndex(of: edge.target)!...] + [edge.target]
                    builder.error(
                        edge.path,
                        "segment \"\(segment)\" refers to itself through a cycle: \(cycle.joined(separator: " → "))")
                case 2: break
                default: visit(edge.target, &builder)
                }
            }
            stack.removeLast()
            state[segment] = 2
        }
        for segment in declared where state[segment] == nil {
            visit(segment, &self)
        }
    }

    mutating func checkSelectors(_ optimizations: [(Optimization, ConfigPath)]) {
        var firstPath: [String: ConfigPath] = [:]
        for (optimization, path) in optimizations {
            if let first = firstPath[optimization.selector] {
                let location = sourceMap.location(for: first).map { " (line \($0.line))" } ?? ""
                error(
                    path.appending("selector"),
                    "duplicate selector \"\(optimization.selector)\": \(first.description)\(location) has it too; selectors are unique across personalizations and experiments"
                )
            } else {
                firstPath[optimization.selector] = path
            }
        }
    }

    /// Route `names` are optimization selectors and `groups` selector groups; a typo would silently serve nothing.
    mutating func checkRoutes(_ node: ConfigNode?, optimizations: [Optimization]) {
        guard case .array(let routes)? = node else { return }
        let selectors = optimizations.map(\.selector)
        let groups = Array(Set(optimizations.compactMap(\.group))).sorted()
        for (index, route) in routes.enumerated() {
            let routePath = ConfigPath.root.appending("route")[index]
            if case .array(let names)? = route.tableValue?["names"] {
                for (nameIndex, name) in names.enumerated() {
                    guard let name = name.stringValue, !selectors.contains(name) else { continue }
                    let hint =
                        KeySuggestion.closest(to: name, among: selectors).map { "; did you mean \"\($0)\"?" }
                        ?? "; names are selectors: \(selectors.joined(separator: ", "))"
                    error(routePath.appending("names")[nameIndex], "no optimization has selector \"\(name)\"\(hint)")
                }
            }
            if case .array(let names)? = route.tableValue?["groups"] {
                for (groupIndex, group) in names.enumerated() {
                    guard let group = group.stringValue, !groups.contains(group) else { continue }
                    let hint =
                        KeySuggestion.closest(to: group, among: groups).map { "; did you mean \"\($0)\"?" }
                        ?? (groups.isEmpty
                            ? "; no optimization has a group" : "; groups: \(groups.joined(separator: ", "))")
                    error(routePath.appending("groups")[groupIndex], "no optimization is in group \"\(group)\"\(hint)")
                }
            }
        }
    }
}
