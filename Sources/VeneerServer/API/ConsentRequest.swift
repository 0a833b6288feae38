import Foundation
import Hummingbird
import VeneerCore
import VeneerStore

/// Reads a `/consents/data` body: a flat object, `timestamp` in epoch seconds (milliseconds, as node 1.x
/// sent, fall out of range and become the arrival time), `validUntil` a string or a number.
enum ConsentRequest {
    static func consent(from body: Any, now: Int64) throws(APIError) -> Consent {
        guard let root = body as? [String: Any] else { throw APIError(.badRequest, "The body must be a JSON object") }
        guard let actionText = root["action"] as? String else { throw APIError(.badRequest, "action is required") }
        guard let action = Consent.Action(rawValue: actionText.lowercased()) else {
            throw APIError(.badRequest, "action must be accept or reject")
        }
        let profileId = try WireJSON.identifier(root["profileId"], field: "profileId")
        let userId = try WireJSON.identifier(root["userId"], field: "userId")
        let sourceId = try WireJSON.identifier(root["sourceId"], field: "sourceId")
        guard profileId != nil || userId != nil else {
            throw APIError(.badRequest, "Either userId or profileId is required")
        }
        if userId == nil, profileId != nil, sourceId == nil {
            throw APIError(.badRequest, "sourceId is required with a profileId")
        }
        var category: String?
        switch root["category"] {
        case nil, is NSNull: category = nil
        case let text as String: category = text.isEmpty ? nil : text
        default: throw APIError(.badRequest, "category must be a string")
        }
        var validUntil: String?
        switch root["validUntil"] {
        case nil, is NSNull: validUntil = nil
        case let text as String: validUntil = text
        case let number as NSNumber where !WireJSON.isBoolean(number):
            validUntil = try WireJSON.identifier(number, field: "validUntil")
        default: throw APIError(.badRequest, "validUntil must be a string or a number")
        }
        var timestamp = now
        switch root["timestamp"] {
        case nil, is NSNull: break
        case let number as NSNumber where !WireJSON.isBoolean(number):
            let milliseconds = number.doubleValue * 1000
            if milliseconds.isFinite,
                Int64(exactly: milliseconds.rounded()).map({
                    $0 >= TrackRequest.earliest && $0 <= TrackRequest.latest
                }) == true
            {
                timestamp = Int64(milliseconds.rounded())
            }
        default: throw APIError(.badRequest, "timestamp must be epoch seconds")
        }
        do {
            _ = try Consent.expiry(of: validUntil, from: timestamp)
        } catch {
            throw APIError(.badRequest, error.message)
        }
        return Consent(
            action: action, timestamp: timestamp, profileId: profileId, userId: userId, sourceId: sourceId,
            category: category, validUntil: validUntil, body: root.mapValues(WireJSON.value))
    }
}
