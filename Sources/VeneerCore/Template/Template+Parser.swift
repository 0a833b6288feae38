/// Compiles template source into segments. Works on UTF-8 bytes; every delimiter is ASCII, so
/// every cut falls on a character boundary of the source.
struct TemplateParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let mode: Template.Mode
    private var position = 0
    private var segments: [Template.Segment] = []
    /// Literal text not yet flushed into a segment (escapes make it differ from the source bytes).
    private var literal: [UInt8] = []

    private static let roots = ["attribute", "payload", "visitor", "request"]

    static func parse(_ source: String, mode: Template.Mode) throws(TemplateError) -> [Template.Segment] {
        var source = source
        // `withUTF8` cannot throw typed errors through its closure, so the result carries them.
        let result: Result<[Template.Segment], TemplateError> = source.withUTF8 { bytes in
            var parser = TemplateParser(bytes: bytes, mode: mode)
            do throws(TemplateError) {
                return .success(try parser.parseAll())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, mode: Template.Mode) {
        self.bytes = bytes
        self.mode = mode
    }

    // MARK: - Text and delimiters

    private mutating func parseAll() throws(TemplateError) -> [Template.Segment] {
        var literalStart = 0  // start of the source run not yet copied into `literal`
        while position < bytes.count {
            let byte = bytes[position]
            guard byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: "{") else {
                position += 1
                continue
            }
            var backslashEnd = position
            while backslashEnd < bytes.count, bytes[backslashEnd] == UInt8(ascii: "\\") { backslashEnd += 1 }
            guard let closer = opener(at: backslashEnd) else {
                position = max(backslashEnd, position + 1)
                continue
            }
            // Backslashes before an opener pair up; an odd one out makes the opener literal.
            let backslashes = backslashEnd - position
            literal.append(contentsOf: bytes[literalStart..<position])
            literal.append(contentsOf: repeatElement(UInt8(ascii: "\\"), count: backslashes / 2))
            if backslashes % 2 == 1 {
                literal.append(contentsOf: bytes[backslashEnd..<backslashEnd + 2])
                position = backslashEnd + 2
            } else {
                flushLiteral()
                position = backslashEnd
                segments.append(.substitution(try parseSubstitution(closer: closer)))
            }
            literalStart = position
        }
        literal.append(contentsOf: bytes[literalStart..<bytes.count])
        flushLiteral()
        return segments
    }

    private mutating func flushLiteral() {
        guard !literal.isEmpty else { return }
        segments.append(.literal(String(decoding: literal, as: UTF8.self)))
        literal.removeAll(keepingCapacity: true)
    }

    /// The closing byte when a substitution opens at `index`: `<<` always; in payload mode `{{`
    /// only when a known root follows, so other `{{ … }}` stays text.
    private func opener(at index: Int) -> UInt8? {
        guard index + 1 < bytes.count, bytes[index] == bytes[index + 1] else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "<"):
            return UInt8(ascii: ">")
        case UInt8(ascii: "{") where mode == .payload:
            var cursor = index + 2
            while cursor < bytes.count, Self.isWhitespace(bytes[cursor]) { cursor += 1 }
            let nameStart = cursor
            while cursor < bytes.count, Self.isPathByte(bytes[cursor]) { cursor += 1 }
            guard Self.roots.contains(where: { Self.equals(bytes[nameStart..<cursor], $0) }) else { return nil }
            if cursor == bytes.count { return UInt8(ascii: "}") }
            switch bytes[cursor] {
            case UInt8(ascii: "."), UInt8(ascii: "|"), UInt8(ascii: "}"): return UInt8(ascii: "}")
            case let byte where Self.isWhitespace(byte): return UInt8(ascii: "}")
            default: return nil
            }
        default:
            return nil
        }
    }

    // MARK: - One substitution

    private mutating func parseSubstitution(closer: UInt8) throws(TemplateError) -> Template.Substitution {
        let open = position
        let closeText = closer == UInt8(ascii: ">") ? ">>" : "}}"
        let openText = closer == UInt8(ascii: ">") ? "<<" : "{{"
        position += 2
        skipWhitespace()
        if atCloser(closer) {
            throw error(
                at: open,
                "empty substitution: expected a path such as \(openText) attribute.user.first_name \(closeText)")
        }
        if position == bytes.count { throw unterminated(open, openText, closeText) }

        let path = try parsePath(open: open, openText: openText, closeText: closeText)
        var filters: [TemplateFilter] = []
        while true {
            skipWhitespace()
            if position == bytes.count { throw unterminated(open, openText, closeText) }
            if atCloser(closer) {
                position += 2
                break
            }
            guard bytes[position] == UInt8(ascii: "|") else {
                throw error(
                    at: position, "expected \"|\" or \"\(closeText)\", found \(describeCharacter(at: position))")
            }
            position += 1
            skipWhitespace()
            if position == bytes.count { throw unterminated(open, openText, closeText) }
            filters.append(try parseFilter(closer: closer, open: open, openText: openText, closeText: closeText))
        }
        let escapesResult = mode == .html && !filters.contains(.raw) && !filters.contains(.escape)
        return Template.Substitution(path: path, filters: filters, escapesResult: escapesResult)
    }

    private mutating func parsePath(
        open: Int, openText: String, closeText: String
    ) throws(TemplateError) -> TemplatePath {
        var components: [(name: String, offset: Int)] = []
        while true {
            let start = position
            while position < bytes.count, Self.isPathByte(bytes[position]) { position += 1 }
            if position == start {
                if position == bytes.count { throw unterminated(open, openText, closeText) }
                let what = components.isEmpty ? "a path such as attribute.user.first_name" : "a name after \".\""
                throw error(at: position, "expected \(what), found \(describeCharacter(at: position))")
            }
            components.append((String(decoding: bytes[start..<position], as: UTF8.self), start))
            guard position < bytes.count, bytes[position] == UInt8(ascii: ".") else { break }
            position += 1
        }
        return try resolveRoot(components)
    }

    private func resolveRoot(_ components: [(name: String, offset: Int)]) throws(TemplateError) -> TemplatePath {
        let root = components[0]
        let rest = components.dropFirst()
        switch root.name {
        case "attribute":
            guard let scope = rest.first else {
                throw error(
                    at: root.offset, "\"attribute\" needs a scope: attribute.user.NAME or attribute.account.NAME")
            }
            let path = rest.dropFirst().map { TemplatePath.Component($0.name) }
            switch scope.name {
            case "user": return .user(path)
            case "account": return .account(path)
            default:
                throw error(
                    at: scope.offset,
                    "unknown attribute scope \"\(scope.name)\"; use attribute.user or attribute.account")
            }
        case "payload":
            return .payload(rest.map { TemplatePath.Component($0.name) })
        case "visitor":
            guard !rest.isEmpty else {
                throw error(
                    at: root.offset, "\"visitor\" needs a field: device, profile_id, session_id, new or returning")
            }
            return .visitor(rest.map { TemplatePath.Component($0.name) })
        case "request":
            guard let field = rest.first else {
                throw error(at: root.offset, "\"request\" needs a field: path, url, referrer or query.NAME")
            }
            let after = rest.dropFirst()
            if field.name == "query" {
                guard !after.isEmpty else {
                    throw error(at: field.offset, "request.query needs a parameter name: request.query.NAME")
                }
                return .requestQuery(after.map(\.name).joined(separator: "."))
            }
            let path: TemplatePath
            switch field.name {
            case "path": path = .requestPath
            case "url": path = .requestURL
            case "referrer": path = .requestReferrer
            default:
                throw error(
                    at: field.offset, "unknown request field \"\(field.name)\"; use path, url, referrer or query.NAME")
            }
            if let extra = after.first {
                throw error(at: extra.offset, "request.\(field.name) is text and has no field \"\(extra.name)\"")
            }
            return path
        default:
            throw error(
                at: root.offset,
                "unknown path root \"\(root.name)\"; a path starts with attribute.user, attribute.account, payload, visitor or request"
            )
        }
    }

    private mutating func parseFilter(
        closer: UInt8, open: Int, openText: String, closeText: String
    ) throws(TemplateError) -> TemplateFilter {
        let nameStart = position
        while position < bytes.count, Self.isNameByte(bytes[position]) { position += 1 }
        guard position > nameStart else {
            throw error(at: position, "expected a filter name after \"|\", found \(describeCharacter(at: position))")
        }
        let name = String(decoding: bytes[nameStart..<position], as: UTF8.self)
        let filter: TemplateFilter?
        switch name {
        case "upper": filter = .upper
        case "lower": filter = .lower
        case "escape": filter = .escape
        case "raw": filter = .raw
        case "url": filter = .url
        case "json": filter = .json
        case "default": filter = nil
        default:
            throw error(
                at: nameStart, "unknown filter \"\(name)\"; filters are \(TemplateFilter.names.joined(separator: ", "))"
            )
        }
        skipWhitespace()
        let hasColon = position < bytes.count && bytes[position] == UInt8(ascii: ":")
        if let filter {
            if hasColon { throw error(at: position, "filter \"\(name)\" takes no argument") }
            return filter
        }
        guard hasColon else {
            throw error(at: nameStart, "filter \"default\" needs a text argument: default: \"text\"")
        }
        position += 1
        skipWhitespace()
        if position == bytes.count { throw unterminated(open, openText, closeText) }
        guard bytes[position] == UInt8(ascii: "\"") else {
            throw error(
                at: position,
                "filter \"default\" needs a quoted text argument, found \(describeCharacter(at: position))")
        }
        return .defaultValue(try parseStringLiteral())
    }

    /// A `"…"` literal whose only escapes are `\"` and `\\`.
    private mutating func parseStringLiteral() throws(TemplateError) -> String {
        let quote = position
        position += 1
        var text: [UInt8] = []
        var runStart = position
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                text.append(contentsOf: bytes[runStart..<position])
                position += 1
                return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                text.append(contentsOf: bytes[runStart..<position])
                guard position + 1 < bytes.count else { throw unterminatedString(quote) }
                let escaped = bytes[position + 1]
                guard escaped == UInt8(ascii: "\"") || escaped == UInt8(ascii: "\\") else {
                    throw error(
                        at: position,
                        "unknown escape \"\\\(describeRaw(at: position + 1))\" in text; only \\\" and \\\\ are escapes")
                }
                text.append(escaped)
                position += 2
                runStart = position
            default:
                position += 1
            }
        }
        throw unterminatedString(quote)
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while position < bytes.count, Self.isWhitespace(bytes[position]) { position += 1 }
    }

    private func atCloser(_ closer: UInt8) -> Bool {
        position + 1 < bytes.count && bytes[position] == closer && bytes[position + 1] == closer
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Letters, digits, `_`, `-`, `$` and any non-ASCII byte (attribute names may be Unicode).
    private static func isPathByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || isNameByte(byte) || byte == UInt8(ascii: "$")
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }

    private static func equals(_ slice: Slice<UnsafeBufferPointer<UInt8>>, _ text: String) -> Bool {
        slice.elementsEqual(text.utf8)
    }

    private func describeCharacter(at index: Int) -> String {
        guard index < bytes.count else { return "the end of the template" }
        return "\"\(describeRaw(at: index))\""
    }

    /// The character starting at `index` as text (a whole UTF-8 sequence), for messages.
    private func describeRaw(at index: Int) -> String {
        guard index < bytes.count else { return "" }
        var end = index + 1
        while end < bytes.count, end - index < 4, bytes[end] & 0xC0 == 0x80 { end += 1 }
        switch bytes[index] {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        default: return String(decoding: bytes[index..<end], as: UTF8.self)
        }
    }

    private func unterminated(_ open: Int, _ openText: String, _ closeText: String) -> TemplateError {
        error(
            at: open,
            "unterminated \"\(openText)\": no \"\(closeText)\" closes it (write \\\(openText) for a literal \(openText))"
        )
    }

    private func unterminatedString(_ quote: Int) -> TemplateError {
        error(at: quote, "unterminated text: no closing quote")
    }

    /// An error at a byte offset, with a 1-based line and a column counted in characters.
    private func error(at offset: Int, _ message: String) -> TemplateError {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        let column = String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self).count + 1
        return TemplateError(line: line, column: column, message: message)
    }
}
