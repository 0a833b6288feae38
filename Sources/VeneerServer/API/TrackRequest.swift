import Foundation
import Hummingbird
import VeneerCore

/// Reads a track body (`{"track":[{"name","type"?,"payload":[…]}]}`) into events, all or nothing: one bad
/// item refuses the whole request, so a 400 stores nothing.
///
/// ```swift
/// let events = try TrackRequest.events(from: body, sourceId: "1", now: nowMs)
/// ```
enum TrackRequest {
    /// 2010-01-01T00:00:00Z: earlier timestamps are refused.
    static let earliest: Int64 = 1_262_304_000_000
    /// 2040-01-18T00:00:00Z: later timestamps are replaced with the arrival time.
    static let latest: Int64 = 2_210_371_200_000

    static func events(from body: Any, sourceId pathSourceId: String?, now: Int64) throws(APIError) -> [TrackEvent] {
        guard let root = body as? [String: Any] else { throw APIError(.badRequest, "The body must be a JSON object") }
        guard let groups = root["track"] else { throw APIError(.badRequest, "track is required") }
        guard let entries = groups as? [Any] else { throw APIError(.badRequest, "track must be an array") }
        var events: [TrackEvent] = []
        for (entryIndex, entryValue) in entries.enumerated() {
            guard let entry = entryValue as? [String: Any] else {
                throw APIError(.badRequest, "track[\(entryIndex)] must be an object")
            }
            guard let name = (entry["name"] as? String)?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
                throw APIError(.badRequest, "track[\(entryIndex)].name is required")
            }
            // The server never validated `type`: any string, or none, is fine.
            let type = entry["type"] as? String
            let payload: [Any]
            switch entry["payload"] {
            case nil, is NSNull: payload = []
            case let items as [Any]: payload = items
            default: throw APIError(.badRequest, "track[\(entryIndex)].payload must be an array")
            }
            var eventIdUses: [String: Int] = [:]
            for (itemIndex, itemValue) in payload.enumerated() {
                let path = "track[\(entryIndex)].payload[\(itemIndex)]"
                guard let item = itemValue as? [String: Any] else {
                    throw APIError(.badRequest, "\(path) must be an object")
                }
                var event = try self.event(item, name: name, type: type, path: path, sourceId: pathSourceId, now: now)
                // Commerce lines of one order share an eventId: each line is its own event, and a replay of the
                // same request names them the same way.
                let uses = eventIdUses[event.eventId, default: 0] + 1
                eventIdUses[event.eventId] = uses
                if uses > 1 { event.eventId += "#\(uses)" }
                events.append(event)
            }
        }
        return events
    }

    private static func event(
        _ item: [String: Any], name: String, type: String?, path: String, sourceId pathSourceId: String?, now: Int64
    ) throws(APIError) -> TrackEvent {
        func identifier(_ field: String) throws(APIError) -> String? {
            try WireJSON.identifier(item[field], field: "\(path).\(field)")
        }
        func object(_ field: String) throws(APIError) -> [String: JSONValue] {
            switch item[field] {
            case nil, is NSNull: return [:]
            case let value as [String: Any]: return value.mapValues(WireJSON.value)
            default: throw APIError(.badRequest, "\(path).\(field) must be an object")
            }
        }
        var profileId = try identifier("profileId")
        let userId = try identifier("userId")
        let accountId = try identifier("accountId")
        let data = try object("data")
        let productId = data["productId"].flatMap { $0 == .null ? nil : $0 }
        guard profileId != nil || userId != nil || accountId != nil || productId != nil else {
            throw APIError.noIdentity
        }
        if profileId == nil, let userId { profileId = userId }
        return TrackEvent(
            eventId: try identifier("eventId") ?? UUID().uuidString.lowercased(),
            name: name,
            type: type,
            timestamp: try timestamp(item["timestamp"], path: path, now: now),
            sourceId: try identifier("sourceId") ?? pathSourceId,
            profileId: profileId,
            userId: userId,
            accountId: accountId,
            anotherUserId: try identifier("anotherUserId"),
            sessionId: try identifier("sessionId"),
            data: data,
            userAttributes: try object("userAttributes"),
            accountAttributes: try object("accountAttributes"))
    }

    /// Milliseconds: missing means now, before 2010 is refused, after 2040-01-18 becomes now.
    static func timestamp(_ value: Any?, path: String, now: Int64) throws(APIError) -> Int64 {
        let milliseconds: Int64
        switch value {
        case nil, is NSNull:
            return now
        case let number as NSNumber where !WireJSON.isBoolean(number):
            guard number.doubleValue.isFinite, abs(number.doubleValue) < 9e18 else {
                throw APIError(.badRequest, "\(path).timestamp is out of range")
            }
            milliseconds = Int64(number.doubleValue)
        case let text as String:
            guard let parsed = Int64(text.trimmingCharacters(in: .whitespaces)) else {
                throw APIError(.badRequest, "\(path).timestamp must be epoch milliseconds")
            }
            milliseconds = parsed
        default:
            throw APIError(.badRequest, "\(path).timestamp must be epoch milliseconds")
        }
        guard milliseconds >= earliest else {
            throw APIError(.badRequest, "\(path).timestamp is before 2010-01-01")
        }
        return milliseconds > latest ? now : milliseconds
    }
}
