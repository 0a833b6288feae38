extension Template {
    /// Renders with `context`. Missing values render as empty text (or as a `default`).
    public func render(_ context: TemplateContext) -> String {
        if segments.count == 1, case .literal(let text) = segments[0] { return text }
        var output = ""
        output.reserveCapacity(literalByteCount + 16 * segments.count)
        for segment in segments {
            switch segment {
            case .literal(let text): output.append(text)
            case .substitution(let substitution): substitution.render(context, into: &output)
            }
        }
        return output
    }
}

extension Template.Substitution {
    func render(_ context: TemplateContext, into output: inout String) {
        var value = path.resolve(in: context)
        for filter in filters { value = filter.apply(to: value) }
        guard let value else { return }
        switch value {
        case .string(let text):
            if escapesResult { TemplateFilter.appendHTMLEscaped(text, to: &output) } else { output.append(text) }
        case .number, .bool:
            output.append(value.text)  // never holds an HTML special character
        case .null:
            break
        case .array, .object:
            if escapesResult { TemplateFilter.appendHTMLEscaped(value.text, to: &output) } else { output.append(value.text) }
        }
    }
}
