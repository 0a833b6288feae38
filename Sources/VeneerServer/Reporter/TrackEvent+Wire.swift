import Foundation
import VeneerCore

extension TrackEvent {
    /// The payload item as Intempt's track endpoint takes it; absent and empty fields are left out.
    var wirePayloadItem: JSONValue {
        var item: [String: JSONValue] = ["eventId": .string(eventId), "timestamp": .number(Double(timestamp))]
        for (field, value) in [
            ("profileId", profileId), ("userId", userId), ("accountId", accountId), ("anotherUserId", anotherUserId),
            ("sessionId", sessionId),
        ] {
            if let value, !value.isEmpty { item[field] = .string(value) }
        }
        if !data.isEmpty { item["data"] = .object(data) }
        if !userAttributes.isEmpty { item["userAttributes"] = .object(userAttributes) }
        if !accountAttributes.isEmpty { item["accountAttributes"] = .object(accountAttributes) }
        return .object(item)
    }

    /// A whole track body for these events, one group per name (and type), in first-seen order.
    static func wireBody(_ events: [TrackEvent]) -> JSONValue {
        var order: [String] = []
        var groups: [String: (name: String, type: String?, items: [JSONValue])] = [:]
        for event in events {
            let key = event.name + "\u{0}" + (event.type ?? "")
            if groups[key] == nil {
                order.append(key)
                groups[key] = (event.name, event.type, [])
            }
            groups[key]?.items.append(event.wirePayloadItem)
        }
        return .object([
            "track": .array(
                order.map { key in
                    let group = groups[key]!
                    var entry: [String: JSONValue] = ["name": .string(group.name), "payload": .array(group.items)]
                    if let type = group.type { entry["type"] = .string(type) }
                    return .object(entry)
                })
        ])
    }

    /// One spool line: every field, so a replayed event is the same event. The text `jsonText()` prints for the
    /// object of `wirePayloadItem` plus `name`, `type` and `sourceId` (keys sorted, empty fields left out), written
    /// directly: the proxy writes one for every page view on its event loops.
    var spoolLine: String {
        var line: [UInt8] = []
        line.reserveCapacity(192 + 64 * (data.count + userAttributes.count + accountAttributes.count))
        writeSpoolLine(into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// `spoolLine` as UTF-8, appended to `line`.
    func writeSpoolLine(into line: inout [UInt8]) {
        line.append(UInt8(ascii: "{"))
        var first = true
        func field(_ key: StaticString, _ write: (inout [UInt8]) -> Void) {
            if !first { line.append(UInt8(ascii: ",")) }
            first = false
            line.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            write(&line)
        }
        func text(_ key: StaticString, _ value: String?, keepEmpty: Bool = false) {
            guard let value, keepEmpty || !value.isEmpty else { return }
            field(key) { JSONValue.writeQuoted(value, into: &$0) }
        }
        if !accountAttributes.isEmpty {
            field("\"accountAttributes\":") { JSONValue.object(accountAttributes).write(into: &$0) }
        }
        text("\"accountId\":", accountId)
        text("\"anotherUserId\":", anotherUserId)
        if !data.isEmpty { field("\"data\":") { JSONValue.object(data).write(into: &$0) } }
        text("\"eventId\":", eventId, keepEmpty: true)
        text("\"name\":", name, keepEmpty: true)
        text("\"profileId\":", profileId)
        text("\"sessionId\":", sessionId)
        text("\"sourceId\":", sourceId, keepEmpty: true)
        field("\"timestamp\":") { JSONValue.number(Double(timestamp)).write(into: &$0) }
        text("\"type\":", type, keepEmpty: true)
        if !userAttributes.isEmpty {
            field("\"userAttributes\":") { JSONValue.object(userAttributes).write(into: &$0) }
        }
        text("\"userId\":", userId)
        line.append(UInt8(ascii: "}"))
    }

    init?(spoolLine: Substring) {
        guard let value = try? JSONValue(jsonData: Data(spoolLine.utf8)), let object = value.objectValue,
            let eventId = object["eventId"]?.stringValue, let name = object["name"]?.stringValue,
            let timestamp = object["timestamp"]?.numberValue
        else { return nil }
        self.init(
            eventId: eventId, name: name, type: object["type"]?.stringValue, timestamp: Int64(timestamp),
            sourceId: object["sourceId"]?.stringValue, profileId: object["profileId"]?.stringValue,
            userId: object["userId"]?.stringValue, accountId: object["accountId"]?.stringValue,
            anotherUserId: object["anotherUserId"]?.stringValue, sessionId: object["sessionId"]?.stringValue,
            data: object["data"]?.objectValue ?? [:], userAttributes: object["userAttributes"]?.objectValue ?? [:],
            accountAttributes: object["accountAttributes"]?.objectValue ?? [:])
    }
}
