/// A key path into proxy.conf, written `personalization[2].experience[0].display`.
struct ConfigPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    var components: [Component] = []

    static let root = ConfigPath()

    func appending(_ key: String) -> ConfigPath {
        var copy = self
        copy.components.append(.key(key))
        return copy
    }

    func appending(keys: some Sequence<String>) -> ConfigPath {
        var copy = self
        copy.components.append(contentsOf: keys.map(Component.key))
        return copy
    }

    subscript(index: Int) -> ConfigPath {
        var copy = self
        copy.components.append(.index(index))
        return copy
    }

    var parent: ConfigPath? {
        guard !components.isEmpty else { return nil }
        var copy = self
        copy.components.removeLast()
        return copy
    }

    var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }
}
