import Foundation
import Hummingbird
import VeneerCore

/// Parses request bodies into `JSONValue`, keeping integers exact: a 19-digit source id sent as a JSON number
/// must come back digit for digit, which a `Double` cannot do.
enum WireJSON {
    static func parse(_ data: Data) throws(APIError) -> Any {
        guard !data.isEmpty else { throw APIError(.badRequest, "Malformed JSON: the body is empty") }
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw APIError(.badRequest, "Malformed JSON: the body is not valid JSON")
        }
    }

    static func value(_ any: Any) -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let string as String: return .string(string)
        case let number as NSNumber:
            if isBoolean(number) { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        case let array as [Any]: return .array(array.map(value))
        case let object as [String: Any]: return .object(object.mapValues(value))
        default: return .null
        }
    }

    static func object(_ any: Any) -> [String: JSONValue]? {
        guard let object = any as? [String: Any] else { return nil }
        return object.mapValues(value)
    }

    /// An id sent as a string or a number; numbers print as integers when they are integers.
    static func identifier(_ any: Any?, field: String) throws(APIError) -> String? {
        guard let any, !(any is NSNull) else { return nil }
        if let string = any as? String {
            let trimmed = string.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
        if let number = any as? NSNumber, !isBoolean(number) {
            // Integers stay exact in the NSNumber (type "q"/"i"…); only real floats come back as "d"/"f".
            let kind = String(cString: number.objCType)
            if kind != "d" && kind != "f" { return String(number.int64Value) }
            let double = number.doubleValue
            if double.isFinite, double == double.rounded(), let exact = Int64(exactly: double) { return String(exact) }
            return number.stringValue
        }
        throw APIError(.badRequest, "\(field) must be a string or a number")
    }

    static func isBoolean(_ number: NSNumber) -> Bool {
        // JSONSerialization hands out its shared boolean objects for true and false.
        String(describing: type(of: number)).contains("Boolean")
    }
}
