public import Foundation

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .number(let number):
            if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
                try container.encode(Int64(number))
            } else {
                try container.encode(number)
            }
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }
}

extension JSONValue {
    /// Parses JSON text (UTF-8 bytes).
    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: jsonData)
    }

    /// Compact JSON text with sorted keys, so equal values always print the same.
    public func jsonText() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        write(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `jsonText()` to `output`.
    public func write(into output: inout String) {
        if case .string(let string) = self {
            JSONValue.writeQuoted(string, into: &output)
        } else {
            output += jsonText()
        }
    }

    /// Appends `string` as a JSON string literal, escaped as `jsonText()` escapes it.
    public static func writeQuoted(_ string: String, into output: inout String) {
        // Most strings (ids, names, URLs) need no escape: copied whole. The rest are escaped as bytes.
        if string.utf8.contains(where: mayNeedEscape) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(string.utf8.count + 16)
            writeQuoted(string, into: &bytes)
            output += String(decoding: bytes, as: UTF8.self)
        } else {
            output += "\""
            output += string
            output += "\""
        }
    }

    /// `writeQuoted` for valid UTF-8 held elsewhere: copied whole when nothing needs an escape.
    static func writeQuoted(utf8 bytes: UnsafeRawBufferPointer, into output: inout String) {
        let text = String(unsafeUninitializedCapacity: bytes.count) { target in
            UnsafeMutableRawBufferPointer(target).copyMemory(from: bytes)
            return bytes.count
        }
        writeQuoted(text, into: &output)
    }
}
