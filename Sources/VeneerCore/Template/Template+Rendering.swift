extension Template {
    /// Renders with `context`. Missing values render as empty text (or as a `default`).
    public func render(_ context: TemplateContext) -> String {
        render(context, automaticEscape: true)
    }

    /// Renders without the automatic HTML escape of `.html` mode (explicit `escape` filters still
    /// apply), for callers that escape the whole result themselves: element text and attribute
    /// values set by the rewriter. Unlike recompiling the source in `.payload` mode, `{{ }}` stays
    /// untouched and nothing is compiled per call.
    ///
    /// ```swift
    /// let text = try Template(source: "Hi << attribute.user.name >> {{ x }}")
    /// text.renderUnescaped(TemplateContext(user: ["name": "<Ada>"]))  // "Hi <Ada> {{ x }}"
    /// ```
    public func renderUnescaped(_ context: TemplateContext) -> String {
        render(context, automaticEscape: false)
    }

    private func render(_ context: TemplateContext, automaticEscape: Bool) -> String {
        if segments.count == 1, case .literal(let text) = segments[0] { return text }
        // Bytes, then one String at the end: appending to an Array is a copy, while each
        // String.append re-checks capacity, uniqueness and ASCII-ness (measured ~4× the cost).
        var output: [UInt8] = []
        output.reserveCapacity(literalByteCount + 16 * segments.count)
        for segment in segments {
            switch segment {
            case .literal(let text):
                Self.appendUTF8(text, to: &output)
            case .substitution(let substitution):
                substitution.render(context, escaping: automaticEscape && substitution.escapesResult, into: &output)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension Template {
    /// Appends the text's UTF-8 bytes in one copy (measured ~3× cheaper than `append(contentsOf: text.utf8)`).
    static func appendUTF8(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { output.append(contentsOf: $0) }
    }
}

extension Template.Substitution {
    func render(_ context: TemplateContext, escaping: Bool, into output: inout [UInt8]) {
        var value = path.resolve(in: context)
        for filter in filters { value = filter.apply(to: value) }
        Self.append(value, escaping: escaping, into: &output)
    }

    /// Appends a substitution's value once its filters have run; nil (missing) appends nothing.
    static func append(_ value: JSONValue?, escaping: Bool, into output: inout [UInt8]) {
        guard let value else { return }
        switch value {
        case .string(let text):
            if escaping {
                TemplateFilter.appendHTMLEscaped(text, to: &output)
            } else {
                Template.appendUTF8(text, to: &output)
            }
        case .number, .bool:
            Template.appendUTF8(value.text, to: &output)  // never holds an HTML special character
        case .null:
            break
        case .array, .object:
            if escaping {
                TemplateFilter.appendHTMLEscaped(value.text, to: &output)
            } else {
                Template.appendUTF8(value.text, to: &output)
            }
        }
    }
}
