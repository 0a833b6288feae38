/// A payload with every string leaf compiled as a `.payload` template; object keys stay as they are.
///
/// ```swift
/// let payload = try PayloadTemplate(["title": "Hey {{ attribute.user.first_name }}!", "discount": 30])
/// payload.render(TemplateContext(user: ["first_name": "Ada"]))
/// // ["title": "Hey Ada!", "discount": 30]
/// ```
///
/// A string that does not compile throws with its key path (`title`, `changes[0].html`) in `keyPath`.
public struct PayloadTemplate: Sendable, Hashable {
    public let source: JSONValue
    /// The compiled tree; the engine prepares its own form of it (`PreparedPayload`).
    let root: Node

    indirect enum Node: Sendable {
        /// A subtree without templates: returned as it is.
        case constant(JSONValue)
        case template(Template)
        case array([Node])
        case object([String: Node])

        var isConstant: Bool {
            if case .constant = self { return true }
            return false
        }
    }

    public init(_ payload: JSONValue) throws(TemplateError) {
        self.source = payload
        self.root = try Self.compile(payload, keyPath: "")
    }

    /// True when no string of the payload has a substitution: `render` returns `source`.
    public var isConstant: Bool { root.isConstant }

    /// The payload with every string rendered for `context`.
    public func render(_ context: TemplateContext) -> JSONValue {
        Self.render(root, context)
    }

    public static func == (left: PayloadTemplate, right: PayloadTemplate) -> Bool { left.source == right.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    private static func compile(_ value: JSONValue, keyPath: String) throws(TemplateError) -> Node {
        switch value {
        case .null, .bool, .number:
            return .constant(value)
        case .string(let text):
            let template: Template
            do {
                template = try Template(source: text, mode: .payload)
            } catch {
                var error = error
                error.keyPath = keyPath
                throw error
            }
            return template.isConstant ? .constant(value) : .template(template)
        case .array(let elements):
            var nodes: [Node] = []
            nodes.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                nodes.append(try compile(element, keyPath: "\(keyPath)[\(index)]"))
            }
            return nodes.allSatisfy(\.isConstant) ? .constant(value) : .array(nodes)
        case .object(let object):
            var nodes: [String: Node] = [:]
            nodes.reserveCapacity(object.count)
            // Sorted, so the first error reported for a payload is always the same one.
            for key in object.keys.sorted() {
                nodes[key] = try compile(object[key]!, keyPath: appending(key, to: keyPath))
            }
            return nodes.values.allSatisfy(\.isConstant) ? .constant(value) : .object(nodes)
        }
    }

    /// `a.b` for plain keys, `a["odd key"]` for keys that would read ambiguously.
    private static func appending(_ key: String, to keyPath: String) -> String {
        let plain =
            !key.isEmpty
            && key.utf8.allSatisfy { byte in
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
                    || byte == UInt8(ascii: "$")
            }
        if plain { return keyPath.isEmpty ? key : "\(keyPath).\(key)" }
        return "\(keyPath)[\(JSONValue.string(key).jsonText())]"
    }

    private static func render(_ node: Node, _ context: TemplateContext) -> JSONValue {
        switch node {
        case .constant(let value): return value
        case .template(let template): return .string(template.render(context))
        case .array(let nodes): return .array(nodes.map { render($0, context) })
        case .object(let nodes): return .object(nodes.mapValues { render($0, context) })
        }
    }
}
