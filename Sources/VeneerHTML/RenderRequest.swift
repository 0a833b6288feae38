public import VeneerCore

/// The inputs of `veneer render` (and of the golden tests) read from their JSON forms
/// (DESIGN.md §9): a changes array and a context object.
///
/// ```swift
/// let changes = try RenderRequest.changes(from: JSONValue(jsonData: changesData))
/// let context = RenderRequest.context(from: try JSONValue(jsonData: contextData))
/// ```
public enum RenderRequest {
    /// Compiles a JSON array of change objects; an error names the change's index and key.
    public static func changes(from json: JSONValue) throws(PageChangeError) -> [PageChange] {
        guard case .array(let items) = json else {
            throw PageChangeError(key: "", message: "the changes file must hold a JSON array of change objects")
        }
        var changes: [PageChange] = []
        for (index, item) in items.enumerated() {
            do {
                changes.append(try PageChange(json: item))
            } catch {
                throw PageChangeError(key: "[\(index)].\(error.key)", message: error.message)
            }
        }
        return changes
    }

    /// `{"attributes": {"user": {…}, "account": {…}}, "payload": {…}, "request": {"path": "/", "query": {…}}, "visitor": {…}}`;
    /// anything missing is empty.
    public static func context(from json: JSONValue) -> TemplateContext {
        let attributes = json["attributes"]
        let request = json["request"]
        var facts = PageFacts()
        if let path = request?["path"]?.stringValue { facts.path = path }
        if let url = request?["url"]?.stringValue { facts.url = url }
        if let referrer = request?["referrer"]?.stringValue { facts.referrer = referrer }
        if let query = request?["query"]?.objectValue { facts.query = query.mapValues(\.text) }
        return TemplateContext(
            user: attributes?["user"]?.objectValue ?? [:], account: attributes?["account"]?.objectValue ?? [:],
            payload: json["payload"] ?? .null, visitor: json["visitor"]?.objectValue ?? [:], request: facts)
    }
}
