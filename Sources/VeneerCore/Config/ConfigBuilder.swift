import Foundation

/// Walks the value tree of proxy.conf, building the model and collecting every problem on the way. Each
/// reader returns nil after recording a diagnostic, so one bad key never hides the next.
struct ConfigBuilder {
    let file: String
    let baseDirectory: String
    let environment: [String: String]
    let sourceMap: ConfigSourceMap
    var diagnostics: [ConfigDiagnostic] = []
    /// Read from `[project] time_zone` before anything that reads local times.
    var timeZone = TimeZone(identifier: "UTC")!
    var templateDirectory = ""
    /// Every `{ segment = "name" }`, checked once all segments are known. `owner` is the segment whose
    /// audience holds the reference, for cycles.
    var segmentReferences: [(name: String, path: ConfigPath, owner: String?)] = []
    /// The segment whose audience is being read, if any.
    var currentSegment: String?
    /// Compiled template files by name; a nil value marks a name already reported as broken.
    var templates: [String: Template?] = [:]
    var allowHosts: Set<String> = []

    init(file: String, baseDirectory: String, environment: [String: String], sourceMap: ConfigSourceMap) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
        self.sourceMap = sourceMap
    }

    // MARK: Diagnostics

    mutating func error(_ path: ConfigPath, _ message: String) {
        let location = sourceMap.location(for: path)
        diagnostics.append(
            ConfigDiagnostic(file: file, line: location?.line, column: nil, keyPath: path.description, message: message)
        )
    }

    mutating func error(file otherFile: String, line: Int?, column: Int?, _ path: ConfigPath, _ message: String) {
        diagnostics.append(
            ConfigDiagnostic(file: otherFile, line: line, column: column, keyPath: path.description, message: message)
        )
    }

    /// Reports keys not in `allowed`, with a suggestion when one is close.
    mutating func checkKeys(_ table: [String: ConfigNode], at path: ConfigPath, allowed: [String]) {
        for key in table.keys.sorted() where !allowed.contains(key) {
            error(path.appending(key), KeySuggestion.unknownMessage("key", key, allowed: allowed))
        }
    }

    mutating func typeError(_ path: ConfigPath, expected: String, found node: ConfigNode) {
        error(path, "expected \(expected), found \(node.typeName)")
    }

    // MARK: Typed readers

    mutating func table(_ node: ConfigNode?, at path: ConfigPath) -> [String: ConfigNode]? {
        guard let node else { return nil }
        guard case .table(let table) = node else {
            typeError(path, expected: "a table", found: node)
            return nil
        }
        return table
    }

    /// An array of tables (`[[route]]`); a missing key is an empty array.
    mutating func tables(_ node: ConfigNode?, at path: ConfigPath) -> [(table: [String: ConfigNode], path: ConfigPath)]
    {
        guard let node else { return [] }
        guard case .array(let elements) = node else {
            typeError(path, expected: "an array of tables", found: node)
            return []
        }
        var result: [(table: [String: ConfigNode], path: ConfigPath)] = []
        for (index, element) in elements.enumerated() {
            if let table = table(element, at: path[index]) { result.append((table, path[index])) }
        }
        return result
    }

    mutating func string(_ node: ConfigNode?, at path: ConfigPath) -> String? {
        guard let node else { return nil }
        guard case .string(let string) = node else {
            typeError(path, expected: "a string", found: node)
            return nil
        }
        return string
    }

    /// A string that must be present and not empty.
    mutating func requiredString(
        _ table: [String: ConfigNode], _ key: String, at path: ConfigPath, example: String
    )
        -> String?
    {
        guard let node = table[key] else {
            error(path, "missing \(key); write \(key) = \(example)")
            return nil
        }
        guard let value = string(node, at: path.appending(key)) else { return nil }
        guard !value.isEmpty else {
            error(path.appending(key), "must not be empty")
            return nil
        }
        return value
    }

    mutating func bool(_ node: ConfigNode?, at path: ConfigPath) -> Bool? {
        guard let node else { return nil }
        guard case .bool(let bool) = node else {
            typeError(path, expected: "true or false", found: node)
            return nil
        }
        return bool
    }

    mutating func integer(_ node: ConfigNode?, at path: ConfigPath, range: ClosedRange<Int>? = nil) -> Int? {
        guard let node else { return nil }
        guard case .integer(let integer) = node else {
            typeError(path, expected: "an integer", found: node)
            return nil
        }
        if let range, !range.contains(integer) {
            error(path, "\(integer) is out of range; allowed: \(Self.rangeText(range))")
            return nil
        }
        return integer
    }

    /// An integer or a float.
    mutating func number(_ node: ConfigNode?, at path: ConfigPath) -> Double? {
        guard let node else { return nil }
        switch node {
        case .integer(let integer): return Double(integer)
        case .float(let float) where float.isFinite: return float
        default:
            typeError(path, expected: "a number", found: node)
            return nil
        }
    }

    mutating func percent(_ node: ConfigNode?, at path: ConfigPath, what: String) -> Double? {
        guard let value = number(node, at: path) else { return nil }
        guard value >= 0, value <= 100 else {
            error(path, "\(what) \(JSONValue.format(value)) is outside 0–100; allowed: a percent from 0 to 100")
            return nil
        }
        return value
    }

    mutating func stringArray(_ node: ConfigNode?, at path: ConfigPath) -> [String]? {
        guard let node else { return nil }
        guard case .array(let elements) = node else {
            typeError(path, expected: "an array of strings", found: node)
            return nil
        }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            guard let string = string(element, at: path[index]) else { return nil }
            result.append(string)
        }
        return result
    }

    mutating func duration(_ node: ConfigNode?, at path: ConfigPath) -> Duration? {
        guard let node else { return nil }
        guard case .string(let text) = node else {
            error(
                path,
                "invalid duration: expected a string such as \"2s\", found \(node.typeName); use \(Duration.configFormHint)"
            )
            return nil
        }
        guard let duration = Duration(configText: text), duration > .zero else {
            error(path, "invalid duration \"\(text)\"; use \(Duration.configFormHint)")
            return nil
        }
        return duration
    }

    mutating func byteSize(_ node: ConfigNode?, at path: ConfigPath) -> Int? {
        guard let node else { return nil }
        switch node {
        case .integer(let integer) where integer >= 0: return integer
        case .string(let text):
            if let bytes = ByteSize.parse(text) { return bytes }
            error(path, "invalid size \"\(text)\"; use \(ByteSize.formHint)")
            return nil
        default:
            error(path, "invalid size: found \(node.typeName); use \(ByteSize.formHint)")
            return nil
        }
    }

    /// An instant: a TOML date-time or an ISO-8601 string; local times are read in the project's time zone.
    mutating func instant(_ node: ConfigNode?, at path: ConfigPath) -> Date? {
        guard let node else { return nil }
        switch node {
        case .dateTime(let dateTime):
            if let date = dateTime.date(in: timeZone) { return date }
            error(path, "invalid date \"\(dateTime.text)\"; use an ISO-8601 instant such as \"2026-11-01T00:00:00Z\"")
        case .string(let text):
            if let date = Date(configText: text, timeZone: timeZone) { return date }
            error(path, "invalid date \"\(text)\"; use an ISO-8601 instant such as \"2026-11-01T00:00:00Z\"")
        default:
            error(
                path, "invalid date: found \(node.typeName); use an ISO-8601 instant such as \"2026-11-01T00:00:00Z\"")
        }
        return nil
    }

    /// A secret: a literal value or `env:NAME`, read from the environment now.
    mutating func secret(_ text: String, at path: ConfigPath) -> String? {
        guard text.hasPrefix("env:") else { return text }
        let name = String(text.dropFirst(4))
        guard !name.isEmpty else {
            error(path, "\"env:\" names no environment variable; write env:NAME")
            return nil
        }
        guard let value = environment[name] else {
            error(path, "environment variable \(name) is not set")
            return nil
        }
        return value
    }

    // MARK: Files

    /// `path` read relative to the folder of proxy.conf.
    func resolve(_ path: String, against directory: String? = nil) -> String {
        if path.hasPrefix("/") { return Self.normalize(path) }
        return Self.normalize((directory ?? baseDirectory) + "/" + path)
    }

    /// Removes `.` and `..` components and repeated slashes without touching the file system.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func isFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func rangeText(_ range: ClosedRange<Int>) -> String {
        range.upperBound == Int.max ? "\(range.lowerBound) or more" : "\(range.lowerBound)–\(range.upperBound)"
    }

    /// The selector and group pattern `^[a-zA-Z0-9_-]+$`.
    static func isSelectorName(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "_" || scalar == "-"
            }
    }
}
