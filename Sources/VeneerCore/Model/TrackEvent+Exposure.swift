extension TrackEvent {
    /// An exposure as the ordinary track event `Experience exposure` (DESIGN.md §6), so any
    /// Intempt-compatible collector can take it.
    ///
    /// ```swift
    /// let event = TrackEvent.exposure(exposure, eventId: UUID().uuidString, timestamp: nowMs,
    ///                                 profileId: "p1", userId: nil, sessionId: "s1",
    ///                                 url: "http://shop/", device: .desktop, applied: true)
    /// ```
    public static func exposure(
        _ exposure: Exposure, eventId: String, timestamp: Int64, sourceId: String? = nil, profileId: String?,
        userId: String?, sessionId: String?, url: String?, device: Device, applied: Bool
    ) -> TrackEvent {
        var data: [String: JSONValue] = [
            "optimization": .string(exposure.optimizationName),
            "selector": .string(exposure.selector),
            "group": exposure.group.map(JSONValue.string) ?? .null,
            "type": .string(exposure.kind.rawValue),
            "control": .bool(exposure.control),
            "bucketVersion": .number(Double(exposure.bucketVersion)),
            "assignmentKey": .string(exposure.assignmentKey),
            "url": url.map(JSONValue.string) ?? .null,
            "device": .string(device.rawValue),
            "applied": .bool(applied),
        ]
        data[exposure.kind == .personalization ? "experience" : "variant"] = .string(exposure.arm)
        return TrackEvent(
            eventId: eventId, name: exposureName, timestamp: timestamp, sourceId: sourceId, profileId: profileId,
            userId: userId, sessionId: sessionId, data: data)
    }

    /// Reads an `Experience exposure` event back into an exposure; nil for any other event or a malformed one.
    public var exposure: Exposure? {
        guard name == Self.exposureName,
            let selector = data["selector"]?.stringValue,
            let kind = data["type"]?.stringValue.flatMap(Optimization.Kind.init(rawValue:)),
            let arm = (kind == .personalization ? data["experience"] : data["variant"])?.stringValue
        else { return nil }
        return Exposure(
            selector: selector,
            optimizationName: data["optimization"]?.stringValue ?? selector,
            group: data["group"]?.stringValue,
            kind: kind,
            arm: arm,
            control: data["control"]?.boolValue ?? false,
            bucketVersion: data["bucketVersion"]?.numberValue.map { Int($0) } ?? 1,
            assignmentKey: data["assignmentKey"]?.stringValue ?? "")
    }
}
