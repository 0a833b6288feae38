public import VeneerCore

/// A change with its content already rendered for one visitor: what `PageRewriter` applies.
///
/// ```swift
/// let change = try PageChange(json: ["selector": "#hero", "action": "inner", "html": "<b>Hi << attribute.user.first_name >></b>"])
/// let rendered = change.rendered(TemplateContext(user: ["first_name": "Ada"]), templates: [:])
/// rendered.html  // "<b>Hi Ada</b>"
/// ```
public struct RenderedChange: Sendable {
    public var selector: CSSSelector
    public var action: PageChange.Action
    /// Raw HTML to insert (from `html` or a template file); already escaped where it substitutes values.
    public var html: String?
    /// Plain text; the rewriter escapes it for where it goes.
    public var text: String?
    /// For `attribute`, `add-class`, `remove-class`, `style`: plain text, escaped by the rewriter.
    public var value: String?
    /// The attribute name for `attribute`.
    public var name: String?
    /// Set when the change could not be rendered (e.g. its template file is missing): the rewriter
    /// skips it with this reason.
    public var problem: String?

    public init(
        selector: CSSSelector, action: PageChange.Action, html: String? = nil, text: String? = nil,
        value: String? = nil,
        name: String? = nil, problem: String? = nil
    ) {
        self.selector = selector
        self.action = action
        self.html = html
        self.text = text
        self.value = value
        self.name = name
        self.problem = problem
    }
}

extension PageChange {
    /// Renders the change's content for one visitor. `templates` maps a template file name (as a
    /// change's `template` names it) to its compiled `.html` template.
    ///
    /// Text and values are rendered with substitutions inserted as they are and escaped once, by the
    /// rewriter, for the place they land (element text or an attribute value).
    public func rendered(_ context: TemplateContext, templates: [String: Template]) -> RenderedChange {
        var result = RenderedChange(selector: selector, action: action, name: name)
        switch content {
        case .none:
            break
        case .html(let template):
            result.html = template.render(context)
        case .text(let template):
            result.text = template.renderUnescaped(context)
        case .template(let name):
            if let template = templates[name] {
                result.html = template.render(context)
            } else {
                result.problem = "template \"\(name)\" not found"
            }
        }
        if action == .text, result.text == nil, let html = result.html {
            // `text` always inserts text: HTML given to it is shown, not interpreted.
            result.text = html
            result.html = nil
        }
        if let value {
            result.value = value.renderUnescaped(context)
        }
        return result
    }
}
