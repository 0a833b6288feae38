/// One change to a page (DESIGN.md §4), compiled from a payload's `changes` list.
///
/// ```swift
/// let change = try PageChange(json: ["selector": "#hero", "action": "inner", "html": "<b>Hi</b>"])
/// ```
public struct PageChange: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case replace, inner, text, before, after, prepend, append, remove, attribute, style
        case addClass = "add-class"
        case removeClass = "remove-class"
    }

    public enum Content: Sendable, Hashable {
        case none
        /// Inline HTML with `<< >>` (inserted raw; values escaped unless `raw`).
        case html(Template)
        /// A template file by name, looked up in the configuration's templates.
        case template(String)
        /// Plain text, escaped for its context.
        case text(Template)
    }

    public var selector: CSSSelector
    public var action: Action
    public var content: Content
    /// `attribute`, `add-class`, `remove-class` and `style` read this.
    public var value: Template?
    /// The attribute name for `attribute`.
    public var name: String?

    public init(
        selector: CSSSelector, action: Action, content: Content = .none, value: Template? = nil, name: String? = nil
    ) {
        self.selector = selector
        self.action = action
        self.content = content
        self.value = value
        self.name = name
    }
}

/// Why a change could not be compiled; `key` names the offending field.
public struct PageChangeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

extension PageChange {
    /// Compiles one change object. `defaultTemplate` is the experience's `template`, used by content actions
    /// that name no content.
    public init(json: JSONValue, defaultTemplate: String? = nil) throws(PageChangeError) {
        guard case .object(let object) = json else {
            throw PageChangeError(key: "", message: "a change must be an object with selector and action")
        }
        guard let selectorText = object["selector"]?.stringValue, !selectorText.isEmpty else {
            throw PageChangeError(key: "selector", message: "missing; a CSS selector such as \"#hero\" is required")
        }
        let selector: CSSSelector
        do {
            selector = try CSSSelector(parsing: selectorText)
        } catch {
            throw PageChangeError(key: "selector", message: "invalid selector \"\(selectorText)\": \(error)")
        }
        guard let actionText = object["action"]?.stringValue else {
            throw PageChangeError(key: "action", message: "missing; one of \(Self.actionList)")
        }
        guard let action = Action(rawValue: actionText) else {
            throw PageChangeError(key: "action", message: "unknown action \"\(actionText)\"; one of \(Self.actionList)")
        }
        let content: Content
        if let html = object["html"] {
            content = .html(try Self.compile(html, key: "html"))
        } else if let text = object["text"] {
            content = .text(try Self.compile(text, key: "text"))
        } else if let template = object["template"] {
            guard let name = template.stringValue, !name.isEmpty else {
                throw PageChangeError(key: "template", message: "must be a template file name")
            }
            content = .template(name)
        } else if let defaultTemplate, Self.contentActions.contains(action) {
            content = .template(defaultTemplate)
        } else {
            content = .none
        }
        let value = try object["value"].map { value throws(PageChangeError) in try Self.compile(value, key: "value") }
        let name = object["name"]?.stringValue
        switch action {
        case .replace, .inner, .before, .after, .prepend, .append:
            if case .none = content {
                throw PageChangeError(key: "html", message: "action \"\(actionText)\" needs html, template or text")
            }
        case .text:
            if case .none = content {
                throw PageChangeError(key: "text", message: "action \"text\" needs text")
            }
        case .attribute:
            guard let name, !name.isEmpty else {
                throw PageChangeError(key: "name", message: "action \"attribute\" needs the attribute name")
            }
        case .addClass, .removeClass, .style:
            if value == nil {
                throw PageChangeError(key: "value", message: "action \"\(actionText)\" needs value")
            }
        case .remove:
            break
        }
        self.init(selector: selector, action: action, content: content, value: value, name: name)
    }

    static let contentActions: Set<Action> = [.replace, .inner, .before, .after, .prepend, .append]
    static let actionList = Action.allCases.map(\.rawValue).joined(separator: ", ")

    private static func compile(_ value: JSONValue, key: String) throws(PageChangeError) -> Template {
        guard case .string(let text) = value else {
            if case .number = value { return try compile(.string(value.text), key: key) }
            throw PageChangeError(key: key, message: "must be a string")
        }
        do {
            return try Template(source: text, mode: .html)
        } catch {
            throw PageChangeError(key: key, message: "template error at \(error)")
        }
    }
}
