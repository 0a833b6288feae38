import ArgumentParser
import Foundation
import Logging
import VeneerCore
import VeneerStore

/// `veneer choose`: the decision for one visitor, with the reason for every optimization.
struct ChooseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "choose",
        abstract: "Print the decision for one visitor and why, for every optimization."
    )

    @Option(help: "The configuration file.") var config = "proxy.conf"
    @Option(help: "The visitor's profile id.") var profile: String
    @Option(help: "The visitor's user id, when signed in.") var user: String?
    @Option(help: "The session id (display once-per-visit is per session).") var session: String?
    @Option(help: "all, mobile or desktop.") var device = "desktop"
    @Option(help: "The page URL, e.g. http://localhost:8080/?utm_source=newsletter") var url: String?
    @Option(help: "Only these selectors (comma-separated); omitted = all.") var names: String?
    @Option(help: "Only these selector groups (comma-separated); omitted = all.") var groups: String?
    @Option(
        help: """
            A JSON file with the visitor's data instead of the store: {"user": {…}, "account": {…}, \
            "events": [{"name": "Purchase", "timestamp": "2026-11-20T10:00:00Z" or ms, "data": {…}}], \
            "exposures": [{"selector": "…", "arm": "…", "timestamp": …, "sessionId": "…", "control": false}]}
            """)
    var attributes: String?
    @Option(help: "The instant to decide at (ISO-8601); default now.") var at: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let configuration: VeneerConfig
        do {
            configuration = try ConfigLoader.load(path: config)
        } catch {
            for diagnostic in error.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
            throw ExitCode(1)
        }
        guard let device = Device(caseInsensitive: self.device) else {
            throw ValidationError("--device must be all, mobile or desktop, not \"\(self.device)\"")
        }
        let now: Date
        if let at {
            guard let instant = ISO8601Instant.parse(at) else {
                throw ValidationError("--at is not an ISO-8601 instant: \(at)")
            }
            now = instant
        } else {
            now = Date()
        }
        let identification = DecisionRequest.Identification(
            sourceId: configuration.project.sourceId, profileId: profile, userId: user)
        let request = DecisionRequest(
            identification: identification,
            names: names.map(Self.list),
            groups: groups.map(Self.list),
            device: device,
            sessionId: session,
            page: url.map(PageFacts.init(visitedURL:)) ?? PageFacts()
        )
        let view: ProfileView
        if let attributes {
            view = try VisitorFile.load(path: attributes, keys: configuration.eventKeys)
        } else {
            let store = try await StoreFactory.open(
                url: configuration.store.url, logger: Logger(label: "veneer.choose"))
            do {
                view = try await store.profileView(for: identification, keys: configuration.eventKeys)
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        }
        let result = Engine(config: configuration).choose(request, profile: view, now: now)
        print(json ? Self.jsonReport(result) : Self.textReport(result, request: request))
    }

    static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func textReport(_ result: DecisionResult, request: DecisionRequest) -> String {
        var lines = [
            "assignment key: \(request.identification.assignmentKey ?? "(none)"), device: \(request.device.rawValue), path: \(request.page.path)"
        ]
        for decision in result.decisions {
            let group = decision.group.map { ", group \($0)" } ?? ""
            lines.append("\(decision.selector) (\(decision.kind.rawValue)\(group)): \(decision.explanation)")
            if let payload = decision.payload { lines.append("  payload: \(payload.jsonText())") }
        }
        let served = result.served.count
        let control = result.decisions.filter { if case .control = $0.outcome { true } else { false } }.count
        lines.append("\(served) served, \(control) control, \(result.decisions.count - served - control) skipped")
        return lines.joined(separator: "\n")
    }

    static func jsonReport(_ result: DecisionResult) -> String {
        let decisions: [JSONValue] = result.decisions.map { decision in
            var object: [String: JSONValue] = [
                "selector": .string(decision.selector),
                "name": .string(decision.optimizationName),
                "type": .string(decision.kind.rawValue),
                "explanation": .string(decision.explanation),
            ]
            object["group"] = decision.group.map(JSONValue.string)
            switch decision.outcome {
            case .served(let arm):
                object["outcome"] = "served"
                object["arm"] = .string(arm)
            case .control(let arm):
                object["outcome"] = "control"
                object["arm"] = .string(arm)
            case .skipped(let reason):
                object["outcome"] = "skipped"
                object["reason"] = .string(reason.rawValue)
            }
            object["payload"] = decision.payload
            return .object(object)
        }
        return JSONValue.object(["decisions": .array(decisions)]).jsonText()
    }
}
