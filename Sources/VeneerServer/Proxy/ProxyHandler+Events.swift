import Foundation
import VeneerCore

extension ProxyHandler {
    /// Page views (`autotrack`), the session start, and the page's exposures, after a page was served —
    /// submitted together, so a page costs one journal write however many events it has.
    func recordPageEvents(_ exchange: ProxyExchange) {
        guard exchange.isTracked, let visitor = exchange.visitor else { return }
        let autotrack = exchange.configuration.config.visitor.autotrack
        let servedPage = exchange.responseIsHTML && exchange.responseStatus == 200
        let answeredVisitor = servedPage || (300..<400).contains(exchange.responseStatus)
        var events: [TrackEvent] = []
        if autotrack, visitor.isNewSession, answeredVisitor {
            events.append(
                event(
                    name: TrackEvent.sessionStartName,
                    data: [
                        "url": .string(exchange.page?.url ?? exchange.path),
                        "referrer": Self.json(exchange.page?.referrer),
                    ],
                    visitor: visitor, exchange: exchange))
        }
        if servedPage {
            if autotrack {
                events.append(
                    event(
                        name: TrackEvent.viewPageName,
                        data: [
                            "url": .string(exchange.page?.url ?? exchange.path),
                            "path": .string(exchange.page?.path ?? exchange.path),
                            "referrer": Self.json(exchange.page?.referrer),
                        ],
                        visitor: visitor, exchange: exchange))
            }
            for exposure in exchange.pageExposures {
                events.append(exposureEvent(exposure, applied: false, visitor: visitor, exchange: exchange))
            }
            for pending in exchange.pendingExposures {
                events.append(
                    exposureEvent(pending.exposure, applied: pending.applied, visitor: visitor, exchange: exchange))
            }
            exchange.pageExposures = []
            exchange.pendingExposures = []
        }
        guard !events.isEmpty else { return }
        services.events.submit(events)
        for event in events { services.metrics.eventsSubmitted(event.name) }
    }

    func recordExposure(_ exposure: Exposure, applied: Bool, exchange: ProxyExchange) {
        guard let visitor = exchange.visitor else { return }
        services.events.submit(exposureEvent(exposure, applied: applied, visitor: visitor, exchange: exchange))
        services.metrics.eventsSubmitted(TrackEvent.exposureName)
    }

    private func exposureEvent(
        _ exposure: Exposure, applied: Bool, visitor: Visitor, exchange: ProxyExchange
    )
        -> TrackEvent
    {
        let now = Self.nowMilliseconds()
        return TrackEvent.exposure(
            exposure, eventId: Visitor.makeEventIdentifier(at: now), timestamp: now,
            sourceId: exchange.configuration.config.project.sourceId, profileId: visitor.profileId,
            userId: visitor.userId, sessionId: visitor.sessionId, url: exchange.page?.url, device: visitor.device,
            applied: applied)
    }

    private func event(
        name: String, data: [String: JSONValue], visitor: Visitor, exchange: ProxyExchange
    )
        -> TrackEvent
    {
        let now = Self.nowMilliseconds()
        return TrackEvent(
            eventId: Visitor.makeEventIdentifier(at: now), name: name, timestamp: now,
            sourceId: exchange.configuration.config.project.sourceId, profileId: visitor.profileId,
            userId: visitor.userId, sessionId: visitor.sessionId, data: data)
    }

    private static func json(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
