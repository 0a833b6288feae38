import ArgumentParser
import Foundation
import VeneerCore

/// The `--attributes` file of `veneer choose`: a visitor described in JSON instead of read from the store.
enum VisitorFile {
    static func load(path: String, keys: Set<EventKey>) throws -> ProfileView {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationError("cannot read \(path): \(error.localizedDescription)")
        }
        let root: JSONValue
        do {
            root = try JSONValue(jsonData: data)
        } catch {
            throw ValidationError("\(path) is not valid JSON: \(error)")
        }
        guard case .object(let object) = root else { throw ValidationError("\(path): expected a JSON object") }
        var view = ProfileView(
            userAttributes: object["user"]?.objectValue ?? [:], accountAttributes: object["account"]?.objectValue ?? [:]
        )
        for (index, event) in (object["events"]?.arrayValue ?? []).enumerated() {
            guard let name = event["name"]?.stringValue, let timestamp = event["timestamp"].flatMap(milliseconds) else {
                throw ValidationError(
                    "\(path): events[\(index)] needs a name and a timestamp (ISO-8601 or milliseconds)")
            }
            view.record(event: name, data: event["data"]?.objectValue ?? [:], timestamp: timestamp, keys: keys)
        }
        for (index, exposure) in (object["exposures"]?.arrayValue ?? []).enumerated() {
            guard let selector = exposure["selector"]?.stringValue, let arm = exposure["arm"]?.stringValue,
                let timestamp = exposure["timestamp"].flatMap(milliseconds)
            else {
                throw ValidationError("\(path): exposures[\(index)] needs selector, arm and timestamp")
            }
            let record = Exposure(
                selector: selector, optimizationName: selector, group: nil, kind: .personalization, arm: arm,
                control: exposure["control"]?.boolValue ?? false,
                bucketVersion: exposure["bucketVersion"]?.numberValue.map { Int($0) } ?? 1, assignmentKey: "")
            view.record(exposure: record, timestamp: timestamp, sessionId: exposure["sessionId"]?.stringValue)
        }
        return view
    }

    static func milliseconds(_ value: JSONValue) -> Int64? {
        switch value {
        case .number(let number): return Int64(number)
        case .string(let text): return ISO8601Instant.parse(text).map { Int64($0.timeIntervalSince1970 * 1000) }
        default: return nil
        }
    }
}
