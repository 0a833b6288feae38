/// A decision's payload as `choose` leaves it: a value as written, or an arm's template whose strings this
/// call rendered into its shared `RenderedPayloads`. `Decision.payload` builds the `JSONValue` on reading.
///
/// Sendable though `RenderedPayloads` (a `ManagedBuffer`) cannot say so: only the `choose` call that makes
/// the buffer writes it, before any decision that holds it is returned; it is read-only from then on.
enum DecisionPayload: @unchecked Sendable, Hashable {
    case value(JSONValue)
    /// A payload without templates: `tables.payloadProgram.constants[index]`, whose JSON text is kept too.
    case constant(EngineTables, index: Int32)
    /// `payloads.json(node: node, textOffset: textOffset)`.
    case rendered(RenderedPayloads, node: Int32, textOffset: Int32)

    var json: JSONValue {
        switch self {
        case .value(let value): return value
        case .constant(let tables, let index): return tables.payloadProgram.constants[Int(index)]
        case .rendered(let payloads, let node, let textOffset): return payloads.json(node: node, textOffset: textOffset)
        }
    }

    /// The value at `components` (object keys, array indices), as `TemplatePath` follows it through `json`,
    /// built alone.
    func value(at components: [TemplatePath.Component]) -> JSONValue? {
        switch self {
        case .value(let value):
            return TemplatePath.follow(components, from: value)
        case .constant(let tables, let index):
            return TemplatePath.follow(components, from: tables.payloadProgram.constants[Int(index)])
        case .rendered(let payloads, let node, let textOffset):
            return payloads.value(at: components, node: node, textOffset: textOffset)
        }
    }

    // Payloads are equal when their JSON is, however each is held.
    static func == (left: DecisionPayload, right: DecisionPayload) -> Bool { left.json == right.json }

    func hash(into hasher: inout Hasher) { hasher.combine(json) }
}
