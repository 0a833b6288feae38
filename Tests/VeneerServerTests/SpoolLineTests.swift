import Testing
import VeneerCore

@testable import VeneerServer

/// Journal lines are written field by field on the event loops: they must be the JSON text of the event's
/// fields with sorted keys, and read back as the same event.
@Suite("Reporter: journal lines")
struct SpoolLineTests {
    /// The line as JSONValue prints the event's fields: what `spoolLine` must equal byte for byte.
    static func expectedLine(_ event: TrackEvent) -> String {
        var object = event.wirePayloadItem.objectValue ?? [:]
        object["name"] = .string(event.name)
        if let type = event.type { object["type"] = .string(type) }
        if let sourceId = event.sourceId { object["sourceId"] = .string(sourceId) }
        return JSONValue.object(object).jsonText()
    }

    static let events: [TrackEvent] = [
        TrackEvent(eventId: "e1", name: "View Page", timestamp: 1_780_000_000_123),
        TrackEvent(
            eventId: "e2", name: "Experience \"exposure\" <b>", type: "track", timestamp: 1_780_000_000_124,
            sourceId: "1", profileId: "p\u{2028}1", userId: "u1", accountId: "a1", anotherUserId: "u0",
            sessionId: "s1",
            data: ["url": "http://shop.test/?q=a&b=<c>", "nested": ["list": [1, 2.5, true, nil], "zero": 0]],
            userAttributes: ["first_name": "Zoë", "vip": true], accountAttributes: ["plan": "gold"]),
        TrackEvent(
            eventId: "", name: "", type: "", timestamp: 0, sourceId: "", profileId: "", userId: "", accountId: "",
            anotherUserId: "", sessionId: ""),
        TrackEvent(eventId: "e4", name: "Big", timestamp: -5, data: ["n": 1e300, "tab": "a\tb\nc\\d"]),
    ]

    @Test(arguments: events)
    func aLineIsTheEventsSortedJSONText(event: TrackEvent) throws {
        #expect(event.spoolLine == Self.expectedLine(event))
    }

    @Test(arguments: events)
    func aLineReadsBackAsTheSameEvent(event: TrackEvent) throws {
        let read = try #require(TrackEvent(spoolLine: Substring(event.spoolLine)))
        #expect(read.spoolLine == event.spoolLine)
        #expect(read.eventId == event.eventId && read.name == event.name && read.timestamp == event.timestamp)
        #expect(read.data == event.data && read.userAttributes == event.userAttributes)
    }
}
