import Foundation
import NIOCore
import NIOHTTP1
import VeneerCore
import VeneerHTML

extension ProxyHandler {
    /// Asks for the visitor's profile view (the one async step, bridged to the loop by a promise) and decides
    /// within `decision.budget`; over budget, the original page is served.
    func startDecision(_ exchange: ProxyExchange, context: ChannelHandlerContext) {
        guard let visitor = exchange.visitor, let page = exchange.page, let route = exchange.route else {
            startOrigin(exchange, forRewrite: false)
            return
        }
        exchange.phase = .deciding
        let request = DecisionRequest(
            identification: .init(
                sourceId: exchange.configuration.config.project.sourceId, profileId: visitor.profileId,
                userId: visitor.userId),
            names: route.route.names, groups: route.route.groups, device: visitor.device,
            sessionId: visitor.sessionId, page: page, isNewVisitor: visitor.isNewSession)
        if visitor.isNewProfile, visitor.userId == nil {
            // A visitor seen for the first time has nothing stored yet: no lookup needed.
            decide(exchange, request: request, profile: ProfileView())
            return
        }
        let profiles = services.profiles
        let keys = exchange.configuration.eventKeys
        let identification = request.identification
        if let cached = profiles.cachedProfileView(for: identification, keys: keys) {
            // Most lookups: no task, no hop off the loop.
            services.metrics.profileLookup(result: "ok")
            decide(exchange, request: request, profile: cached)
            return
        }
        let id = exchange.id
        let promise = context.eventLoop.makePromise(of: ProfileView.self)
        promise.completeWithTask {
            try await profiles.profileView(for: identification, keys: keys)
        }
        exchange.budgetTimer = context.eventLoop.assumeIsolated().scheduleTask(
            in: exchange.configuration.decisionBudget
        ) { [weak self] in
            self?.decisionExpired(exchangeID: id)
        }
        promise.futureResult.assumeIsolated().whenComplete { [weak self] result in
            guard let self, let exchange = self.exchange, exchange.id == id, exchange.phase == .deciding else { return }
            exchange.budgetTimer?.cancel()
            exchange.budgetTimer = nil
            switch result {
            case .success(let view):
                self.services.metrics.profileLookup(result: "ok")
                self.decide(exchange, request: request, profile: view)
            case .failure(let error):
                self.services.metrics.profileLookup(result: "error")
                self.failOpen(.profileError, detail: "\(error)", exchange: exchange)
                self.startOrigin(exchange, forRewrite: false)
            }
        }
    }

    private func decisionExpired(exchangeID: UInt64) {
        guard let exchange, exchange.id == exchangeID, exchange.phase == .deciding else { return }
        exchange.budgetTimer = nil
        services.metrics.profileLookup(result: "over-budget")
        failOpen(.decisionBudget, detail: "no decision within the budget", exchange: exchange)
        startOrigin(exchange, forRewrite: false)
    }

    /// Runs the engine and turns its decisions into a redirect, page changes, or nothing.
    func decide(_ exchange: ProxyExchange, request: DecisionRequest, profile: ProfileView) {
        let configuration = exchange.configuration
        let result = configuration.engine.choose(request, profile: profile, now: Date())
        for decision in result.decisions {
            services.metrics.decision(
                selector: decision.selector, arm: Self.armLabel(decision), outcome: Self.outcomeLabel(decision))
        }
        if configuration.config.server.debugHeader {
            exchange.decisionHeader = Self.debugHeader(for: result)
        }
        let visitorFacts = TemplateContext.visitorFacts(for: request)
        var exposures: [Exposure] = []
        var changes: [RenderedChange] = []
        var owners: [Int] = []
        for decision in result.decisions {
            guard let exposure = decision.exposure else { continue }
            guard let arm = configuration.arm(of: decision) else {
                exposures.append(exposure)  // a control: the original page, recorded as such
                continue
            }
            let templateContext = TemplateContext(
                user: profile.userAttributes, account: profile.accountAttributes, decision: decision,
                visitor: visitorFacts, request: request.page)
            if let rule = arm.redirect {
                let plan = RedirectPlanner.plan(
                    target: rule.url.render(templateContext), status: rule.status, keepQuery: rule.keepQuery,
                    requestPath: exchange.path, requestQuery: exchange.query,
                    requestHost: exchange.requestHead.headers.first(name: "host"),
                    allowHosts: configuration.config.redirects.allowHosts)
                switch plan {
                case .redirect(let location, let status):
                    respondWithRedirect(location: location, status: status, exposure: exposure, exchange: exchange)
                    return
                case .alreadyThere:
                    continue
                case .rejected(let reason):
                    failOpen(.redirectRejected, detail: "\(decision.selector): \(reason)", exchange: exchange)
                    continue
                }
            }
            let owner = exposures.count
            exposures.append(exposure)
            for change in arm.changes {
                let rendered = change.rendered(templateContext, templates: configuration.config.templates)
                if let problem = rendered.problem {
                    failOpen(.templateError, detail: "\(decision.selector): \(problem)", exchange: exchange)
                    continue
                }
                changes.append(rendered)
                owners.append(owner)
            }
        }
        if changes.isEmpty {
            exchange.pageExposures = exposures
            startOrigin(exchange, forRewrite: false)
        } else {
            exchange.personalization = ProxyExchange.Personalization(
                changes: changes, changeOwners: owners, exposures: exposures)
            startOrigin(exchange, forRewrite: true)
        }
    }

    static func armLabel(_ decision: Decision) -> String {
        switch decision.outcome {
        case .served(let arm), .control(let arm): return arm
        case .skipped: return ""
        }
    }

    static func outcomeLabel(_ decision: Decision) -> String {
        switch decision.outcome {
        case .served: return "served"
        case .control: return "control"
        case .skipped(let reason): return reason.rawValue
        }
    }

    /// `selector=served:arm; other=skipped:not-targeted`, ASCII only so it is a valid header value.
    static func debugHeader(for result: DecisionResult) -> String {
        let text = result.decisions.map { decision -> String in
            switch decision.outcome {
            case .served(let arm): return "\(decision.selector)=served:\(arm)"
            case .control(let arm): return "\(decision.selector)=control:\(arm)"
            case .skipped(let reason): return "\(decision.selector)=skipped:\(reason.rawValue)"
            }
        }.joined(separator: "; ")
        let ascii = String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { scalar in
                    (scalar.value >= 0x20 && scalar.value < 0x7F) ? scalar : "?"
                }))
        return ascii.isEmpty ? "none" : ascii
    }
}
