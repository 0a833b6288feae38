/// The strings one `choose` call rendered for the payloads it served, end to end in one allocation that
/// those decisions share. A decision's payload names its node of the `PayloadProgram` and where its strings
/// start here; the `JSONValue` is built only when someone reads it, so a call allocates no dictionary or
/// array per payload.
///
/// ```swift
/// let payloads = RenderedPayloads.make(tables: tables, capacity: 2)
/// payloads.append("Hello Ada")
/// payloads.json(node: node, textOffset: 0 - firstText)  // the payload with "Hello Ada" in its string
/// ```
final class RenderedPayloads: ManagedBuffer<RenderedPayloads.Header, String> {
    struct Header {
        /// Owns the program the nodes and texts are read from.
        let tables: EngineTables
        var count: Int
    }

    static func make(tables: EngineTables, capacity: Int) -> RenderedPayloads {
        unsafeDowncast(
            create(minimumCapacity: capacity) { _ in Header(tables: tables, count: 0) }, to: RenderedPayloads.self)
    }

    /// How many strings are held.
    var count: Int { header.count }

    /// Only while the call that made the buffer renders, within the capacity it was made with.
    func append(_ string: String) {
        withUnsafeMutablePointers { header, elements in
            (elements + header.pointee.count).initialize(to: string)
            header.pointee.count += 1
        }
    }

    /// The payload at `node`, a text `index` of the program read from `index + textOffset` here.
    func json(node: Int32, textOffset: Int32) -> JSONValue {
        withUnsafeMutablePointers { header, elements in
            Self.json(node, program: header.pointee.tables.payloadProgram, texts: elements + Int(textOffset))
        }
    }

    /// `texts[index]` is the string of the program's text `index` (the pointer is offset so that it is).
    private static func json(_ node: Int32, program: PayloadProgram, texts: UnsafeMutablePointer<String>) -> JSONValue {
        switch program.nodes[Int(node)] {
        case .constant(let index):
            return program.constants[Int(index)]
        case .text(let index):
            return .string(texts[Int(index)])
        case .array(let start, let count):
            var elements: [JSONValue] = []
            elements.reserveCapacity(Int(count))
            for offset in 0..<Int(count) {
                elements.append(json(program.children[Int(start) + offset], program: program, texts: texts))
            }
            return .array(elements)
        case .object(let index):
            // Same keys, same layout: no key is hashed again.
            return .object(program.objects[Int(index)].mapValues { json($0, program: program, texts: texts) })
        }
    }

    deinit {
        _ = withUnsafeMutablePointers { header, elements in elements.deinitialize(count: header.pointee.count) }
    }
}
