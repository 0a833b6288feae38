import Foundation
public import Hummingbird
import Logging
import NIOCore
public import VeneerCore
public import VeneerStore

/// The Intempt-compatible API (DESIGN.md §6): track, consents and choose-api under
/// `/v1/{org}/projects/{project}`, with Intempt's statuses, error bodies and client quirks.
///
/// ```swift
/// let router = APIRouter.build(config: config, store: store, reporter: reporter, cache: cache,
///                              engine: { engines.current })
/// router.get("/-/health") { _, _ in "ok" }
/// let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8081)))
/// ```
public enum APIRouter {
    /// Bodies above this answer 413.
    public static let maximumBodyBytes = 5 * 1024 * 1024

    public static func build(
        config: VeneerConfig, store: any Store, reporter: Reporter, cache: ProfileCache,
        engine: @escaping @Sendable () -> Engine
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let handler = APIHandler(store: store, reporter: reporter, cache: cache, engine: engine)
        let base = "/v1/:org/projects/:project"
        router.post("\(base)/sources/:sourceId/track") { request, context in
            try await handler.track(request, context)
        }
        router.post("\(base)/track") { request, context in
            try await handler.track(request, context)
        }
        router.post("\(base)/consents/data") { request, context in
            try await handler.consent(request, context)
        }
        router.post("\(base)/optimization/choose-api") { request, context in
            try await handler.choose(request, context)
        }
        return router
    }
}

/// The endpoints' work; each reads the current configuration from the engine, so a reload applies at once.
struct APIHandler: Sendable {
    let store: any Store
    let reporter: Reporter
    let cache: ProfileCache
    let engine: @Sendable () -> Engine
    let logger = Logger(label: "veneer.api")

    func track(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let config = engine().config
        var request = request
        let body = try await prepare(&request, context, config)
        let events = try TrackRequest.events(
            from: body, sourceId: context.parameters.get("sourceId"), now: Self.milliseconds())
        guard !events.isEmpty else { return APIResponse.empty(.created) }
        do {
            _ = try await store.append(events)
            reporter.forward(events)
        } catch {
            // 201 promises durability: the journal (synced) is durable, and replays into the store later.
            do {
                try reporter.spoolDurably(events)
                logger.warning("track: store unavailable, \(events.count) events journaled: \(error)")
            } catch {
                throw APIError(.serviceUnavailable, "The event store is unavailable; retry later")
            }
        }
        cache.invalidate(events)
        return APIResponse.empty(.created)
    }

    func consent(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let config = engine().config
        var request = request
        let body = try await prepare(&request, context, config)
        let consent = try ConsentRequest.consent(from: body, now: Self.milliseconds())
        do {
            try await store.recordConsent(consent)
        } catch {
            logger.warning("consent: store unavailable: \(error)")
            throw APIError(.serviceUnavailable, "The consent store is unavailable; retry later")
        }
        return APIResponse.empty(.ok)
    }

    func choose(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let engine = engine()
        let config = engine.config
        var request = request
        let body = try await prepare(&request, context, config)
        let decisionRequest = try ChooseRequest.request(from: body, defaultSourceId: config.project.sourceId)
        let view: ProfileView
        do {
            view = try await cache.view(for: decisionRequest.identification, keys: engine.eventKeys)
        } catch {
            logger.warning("choose: profile store unavailable: \(error)")
            throw APIError(.serviceUnavailable, "The profile store is unavailable; retry later")
        }
        let result = engine.choose(decisionRequest, profile: view, now: Date())
        let now = Self.milliseconds()
        let identification = decisionRequest.identification
        let exposures = result.exposures.map { exposure in
            TrackEvent.exposure(
                exposure, eventId: UUID().uuidString.lowercased(), timestamp: now, sourceId: identification.sourceId,
                profileId: identification.profileId ?? identification.userId, userId: identification.userId,
                sessionId: decisionRequest.sessionId,
                url: decisionRequest.page.url.isEmpty ? nil : decisionRequest.page.url,
                device: decisionRequest.device, applied: !exposure.control)
        }
        reporter.submit(exposures)
        // Written as `jsonText` would print {"choices": [{"name", "group", "body"}]} (keys sorted), with each
        // payload copied from the strings `choose` rendered rather than built into a JSONValue first.
        var text = "{\"choices\":["
        for (index, decision) in result.served.enumerated() {
            text += index == 0 ? "{\"body\":" : ",{\"body\":"
            decision.writePayloadJSON(into: &text)
            text += ",\"group\":"
            JSONValue.writeQuoted(decision.servedArm ?? "", into: &text)
            text += ",\"name\":"
            JSONValue.writeQuoted(decision.selector, into: &text)
            text += "}"
        }
        text += "]}"
        return APIResponse.json(text: text)
    }

    /// Auth, project, encoding and size checks, then the parsed JSON body.
    private func prepare(
        _ request: inout Request, _ context: BasicRequestContext, _ config: VeneerConfig
    ) async throws
        -> Any
    {
        let authenticator = APIAuthenticator(keys: config.apiKeys)
        let apiKey = request.uri.queryParameters["apiKey"].map(String.init)
        guard authenticator.isAuthorized(authorization: request.headers[.authorization], apiKeyParameter: apiKey) else {
            throw APIError.unauthorized
        }
        let org = context.parameters.get("org") ?? ""
        let project = context.parameters.get("project") ?? ""
        guard org == config.project.org, project == config.project.project else {
            throw APIError(.notFound, "Unknown organization or project: \(org)/\(project)")
        }
        if let encoding = request.headers[.contentEncoding], encoding.lowercased() != "identity" {
            throw APIError(.badRequest, "Content-Encoding \(encoding) is not supported; send plain JSON")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > APIRouter.maximumBodyBytes {
            throw APIError.tooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: APIRouter.maximumBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge
        }
        return try WireJSON.parse(Data(buffer.readableBytesView))
    }

    static func milliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
