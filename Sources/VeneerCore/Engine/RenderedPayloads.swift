/// The strings one `choose` call rendered for the payloads it served, as UTF-8 end to end in one allocation
/// that those decisions share. A decision's payload names its node of the `PayloadProgram` and where its
/// strings start here; the `JSONValue` (and each `String`) is built only when someone reads it, so a call
/// allocates no dictionary, array or string per payload.
///
/// The tail holds the end offset of each text (`textCapacity` of them), then the bytes.
///
/// ```swift
/// let payloads = RenderedPayloads.make(tables: tables, textCapacity: 1, byteCapacity: 9)
/// payloads.appendText(byteCount: 9).copyMemory(from: "Hello Ada", byteCount: 9)
/// payloads.json(node: node, textOffset: 0 - firstText)  // the payload with "Hello Ada" in its string
/// ```
final class RenderedPayloads: ManagedBuffer<RenderedPayloads.Header, Int32> {
    struct Header {
        /// Owns the program the nodes and texts are read from.
        let tables: EngineTables
        let textCapacity: Int
        var textCount: Int
    }

    static func make(tables: EngineTables, textCapacity: Int, byteCapacity: Int) -> RenderedPayloads {
        let capacity = textCapacity + (byteCapacity + MemoryLayout<Int32>.size - 1) / MemoryLayout<Int32>.size
        return unsafeDowncast(
            create(minimumCapacity: capacity) { _ in
                Header(tables: tables, textCapacity: textCapacity, textCount: 0)
            }, to: RenderedPayloads.self)
    }

    /// How many texts are held.
    var textCount: Int { header.textCount }

    /// Room for the next text, `byteCount` bytes, which the caller fills. Only while the call that made the
    /// buffer renders, within the capacities it was made with.
    func appendText(byteCount: Int) -> UnsafeMutableRawPointer {
        withUnsafeMutablePointers { header, ends in
            let slot = header.pointee.textCount
            let start = slot == 0 ? 0 : Int(ends[slot - 1])
            ends[slot] = Int32(start + byteCount)
            header.pointee.textCount = slot + 1
            return UnsafeMutableRawPointer(ends + header.pointee.textCapacity) + start
        }
    }

    /// The payload at `node`, a text `index` of the program read from slot `index + textOffset` here.
    func json(node: Int32, textOffset: Int32) -> JSONValue {
        withUnsafeMutablePointers { header, ends in
            Self.json(
                node, program: header.pointee.tables.payloadProgram, textOffset: Int(textOffset), ends: ends,
                bytes: UnsafeRawPointer(ends + header.pointee.textCapacity))
        }
    }

    /// Appends the payload at `node` as `json(node:textOffset:).jsonText()` would print it, without building it.
    func writeJSON(node: Int32, textOffset: Int32, into output: inout String) {
        withUnsafeMutablePointers { header, ends in
            Self.writeJSON(
                node, program: header.pointee.tables.payloadProgram, textOffset: Int(textOffset), ends: ends,
                bytes: UnsafeRawPointer(ends + header.pointee.textCapacity), into: &output)
        }
    }

    private static func writeJSON(
        _ node: Int32, program: PayloadProgram, textOffset: Int, ends: UnsafePointer<Int32>, bytes: UnsafeRawPointer,
        into output: inout String
    ) {
        switch program.nodes[Int(node)] {
        case .constant(let index):
            output += program.constantTexts[Int(index)]
        case .text(let index):
            let slot = Int(index) + textOffset
            let start = slot == 0 ? 0 : Int(ends[slot - 1])
            JSONValue.writeQuoted(
                utf8: UnsafeRawBufferPointer(start: bytes + start, count: Int(ends[slot]) - start), into: &output)
        case .array(let start, let count):
            output += "["
            for offset in 0..<Int(count) {
                if offset > 0 { output += "," }
                writeJSON(
                    program.children[Int(start) + offset], program: program, textOffset: textOffset, ends: ends,
                    bytes: bytes, into: &output)
            }
            output += "]"
        case .object(let index):
            // Keys in the order `jsonText` prints them, sorted once when the program was built.
            output += "{"
            for (position, entry) in program.sortedObjects[Int(index)].enumerated() {
                if position > 0 { output += "," }
                output += entry.keyText
                writeJSON(entry.node, program: program, textOffset: textOffset, ends: ends, bytes: bytes, into: &output)
            }
            output += "}"
        }
    }

    /// The value at `components` below `node`: the nodes are followed as `TemplatePath` follows a
    /// `JSONValue`, and only the node found is built.
    func value(at components: [TemplatePath.Component], node: Int32, textOffset: Int32) -> JSONValue? {
        withUnsafeMutablePointers { header, ends in
            let program = header.pointee.tables.payloadProgram
            var node = node
            for (position, component) in components.enumerated() {
                switch program.nodes[Int(node)] {
                case .constant(let index):
                    return TemplatePath.follow(components.dropFirst(position), from: program.constants[Int(index)])
                case .object(let index):
                    guard let child = program.objects[Int(index)][component.key] else { return nil }
                    node = child
                case .array(let start, let count):
                    guard let element = component.index, element < Int(count) else { return nil }
                    node = program.children[Int(start) + element]
                case .text:
                    return nil
                }
            }
            return Self.json(
                node, program: program, textOffset: Int(textOffset), ends: ends,
                bytes: UnsafeRawPointer(ends + header.pointee.textCapacity))
        }
    }

    private static func json(
        _ node: Int32, program: PayloadProgram, textOffset: Int, ends: UnsafePointer<Int32>, bytes: UnsafeRawPointer
    ) -> JSONValue {
        switch program.nodes[Int(node)] {
        case .constant(let index):
            return program.constants[Int(index)]
        case .text(let index):
            let slot = Int(index) + textOffset
            let start = slot == 0 ? 0 : Int(ends[slot - 1])
            let count = Int(ends[slot]) - start
            // Valid UTF-8 (copied from strings), so the copy's check is all that runs; `String(decoding:)`
            // took twice as long.
            return .string(
                String(unsafeUninitializedCapacity: count) { output in
                    UnsafeMutableRawPointer(output.baseAddress.unsafelyUnwrapped).copyMemory(
                        from: bytes + start, byteCount: count)
                    return count
                })
        case .array(let start, let count):
            var elements: [JSONValue] = []
            elements.reserveCapacity(Int(count))
            for offset in 0..<Int(count) {
                elements.append(
                    json(
                        program.children[Int(start) + offset], program: program, textOffset: textOffset, ends: ends,
                        bytes: bytes))
            }
            return .array(elements)
        case .object(let index):
            // Same keys, same layout: no key is hashed again.
            return .object(
                program.objects[Int(index)].mapValues {
                    json($0, program: program, textOffset: textOffset, ends: ends, bytes: bytes)
                })
        }
    }
}
