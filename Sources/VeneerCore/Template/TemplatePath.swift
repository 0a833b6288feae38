/// A compiled `<< >>` path: its root decided at compile time and the rest split into components.
enum TemplatePath: Sendable, Hashable {
    /// `attribute.user.…`; no components names the whole object.
    case user([Component])
    /// `attribute.account.…`
    case account([Component])
    /// `payload.…`
    case payload([Component])
    /// `visitor.…`
    case visitor([Component])
    case requestPath
    case requestURL
    case requestReferrer
    /// `request.query.NAME`; a name with dots is kept whole (`request.query.utm.source`).
    case requestQuery(String)

    /// One step into a JSON value: an object key, or an array index when it is all digits.
    struct Component: Sendable, Hashable {
        let key: String
        let index: Int?

        init(_ key: String) {
            self.key = key
            var index: Int? = nil
            if !key.isEmpty, key.utf8.count <= 18,
                key.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            {
                index = Int(key)
            }
            self.index = index
        }
    }

    /// The value at this path; nil when any step is missing. Null counts as missing.
    func resolve(in context: TemplateContext) -> JSONValue? {
        if case .payload(let components) = self {
            // Only the value the path names is built, not the whole payload.
            let value = context.payloadValue(at: components)
            if case .null? = value { return nil }
            return value
        }
        // Every other root leaves the payload unread.
        return resolve(
            user: context.user, account: context.account, payload: .null, visitor: context.visitor,
            request: context.request)
    }

    /// `resolve(in:)` over the parts of a context, read where they are: the engine resolves payload paths
    /// from the profile and request without copying them into a `TemplateContext` (a retain per field).
    func resolve(
        user: [String: JSONValue], account: [String: JSONValue], payload: JSONValue, visitor: [String: JSONValue],
        request: PageFacts
    ) -> JSONValue? {
        let value: JSONValue?
        switch self {
        case .user(let components): value = Self.follow(components, from: user)
        case .account(let components): value = Self.follow(components, from: account)
        case .payload(let components): value = Self.follow(components, from: payload)
        case .visitor(let components): value = Self.follow(components, from: visitor)
        case .requestPath: value = .string(request.path)
        case .requestURL: value = .string(request.url)
        case .requestReferrer: value = request.referrer.map(JSONValue.string)
        case .requestQuery(let name): value = request.query[name].map(JSONValue.string)
        }
        if case .null? = value { return nil }
        return value
    }

    private static func follow(_ components: [Component], from object: [String: JSONValue]) -> JSONValue? {
        guard let first = components.first else { return .object(object) }
        guard let value = object[first.key] else { return nil }
        return follow(components.dropFirst(), from: value)
    }

    static func follow(_ components: some Collection<Component>, from value: JSONValue) -> JSONValue? {
        var current = value
        for component in components {
            switch current {
            case .object(let object):
                guard let next = object[component.key] else { return nil }
                current = next
            case .array(let array):
                guard let index = component.index, index < array.count else { return nil }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }
}
