import Foundation
import VeneerCore

extension ProxyHandler {
    /// Page views (`autotrack`), the session start, and the page's exposures, after a page was served.
    func recordPageEvents(_ exchange: ProxyExchange) {
        guard exchange.isTracked, let visitor = exchange.visitor else { return }
        let config = exchange.configuration.config
        let servedPage = exchange.responseIsHTML && exchange.responseStatus == 200
        let answeredVisitor = servedPage || (300..<400).contains(exchange.responseStatus)
        if config.visitor.autotrack, visitor.isNewSession, answeredVisitor {
            submit(
                name: TrackEvent.sessionStartName,
                data: ["url": .string(exchange.page?.url ?? exchange.path), "referrer": Self.json(exchange.page?.referrer)],
                exchange: exchange)
        }
        guard servedPage else { return }
        if config.visitor.autotrack {
            submit(
                name: TrackEvent.viewPageName,
                data: [
                    "url": .string(exchange.page?.url ?? exchange.path),
                    "path": .string(exchange.page?.path ?? exchange.path),
                    "referrer": Self.json(exchange.page?.referrer),
                ],
                exchange: exchange)
        }
        for exposure in exchange.pageExposures {
            recordExposure(exposure, applied: false, exchange: exchange)
        }
        for pending in exchange.pendingExposures {
            recordExposure(pending.exposure, applied: pending.applied, exchange: exchange)
        }
        exchange.pageExposures = []
        exchange.pendingExposures = []
    }

    func recordExposure(_ exposure: Exposure, applied: Bool, exchange: ProxyExchange) {
        guard let visitor = exchange.visitor else { return }
        let event = TrackEvent.exposure(
            exposure, eventId: Visitor.makeIdentifier(), timestamp: Self.nowMilliseconds(),
            sourceId: exchange.configuration.config.project.sourceId, profileId: visitor.profileId,
            userId: visitor.userId, sessionId: visitor.sessionId, url: exchange.page?.url, device: visitor.device,
            applied: applied)
        services.events.submit(event)
        services.metrics.eventsSubmitted(TrackEvent.exposureName)
    }

    private func submit(name: String, data: [String: JSONValue], exchange: ProxyExchange) {
        guard let visitor = exchange.visitor else { return }
        let event = TrackEvent(
            eventId: Visitor.makeIdentifier(), name: name, timestamp: Self.nowMilliseconds(),
            sourceId: exchange.configuration.config.project.sourceId, profileId: visitor.profileId,
            userId: visitor.userId, sessionId: visitor.sessionId, data: data)
        services.events.submit(event)
        services.metrics.eventsSubmitted(name)
    }

    private static func json(_ text: String?) -> JSONValue {
        text.map(JSONValue.string) ?? .null
    }

    static func nowMilliseconds() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
