import ArgumentParser
import Foundation
import Logging
import VeneerCore
import VeneerStore

/// `veneer profile ID`: what the store knows of one person (found by user id or profile id).
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print what the store knows of a person: identities, attributes, consents, events, exposures."
    )

    @Argument(help: "A user id or a profile id.") var id: String
    @Option(help: "The configuration file.") var config = "proxy.conf"
    @Option(help: "A store URL to read instead of the configuration's [store] url.") var store: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let url: String
        if let store {
            url = store
        } else {
            do {
                url = try ConfigLoader.load(path: config).store.url
            } catch {
                for diagnostic in error.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
                throw ExitCode(1)
            }
        }
        var logger = Logger(label: "veneer.profile")
        logger.logLevel = .warning
        let opened = try await StoreFactory.open(url: url, logger: logger)
        let person: PersonRecord?
        do {
            person = try await opened.person(id)
            try await opened.close()
        } catch {
            try? await opened.close()
            throw error
        }
        guard let person else {
            FileHandle.standardError.write(
                Data("veneer profile: no person with user id or profile id \"\(id)\"\n".utf8))
            throw ExitCode(1)
        }
        print(json ? Self.jsonReport(person).jsonText() : Self.textReport(person))
    }

    static func textReport(_ person: PersonRecord) -> String {
        var lines: [String] = []
        let optOut =
            person.optedOut
            ? "  (opted out: events are not stored\(person.optedOutUntil.map { " until \(Self.instant($0))" } ?? ""))"
            : ""
        lines.append("person \(person.personId)\(optOut)")
        lines.append("  profile ids: \(person.profileIds.isEmpty ? "-" : person.profileIds.joined(separator: ", "))")
        lines.append("  user ids:    \(person.userIds.isEmpty ? "-" : person.userIds.joined(separator: ", "))")
        lines.append("  accounts:    \(person.accountIds.isEmpty ? "-" : person.accountIds.joined(separator: ", "))")
        lines.append("user attributes:")
        for (key, value) in person.userAttributes.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(key) = \(value.jsonText())")
        }
        if person.userAttributes.isEmpty { lines.append("  -") }
        lines.append("account attributes:")
        for (key, value) in person.accountAttributes.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(key) = \(value.jsonText())")
        }
        if person.accountAttributes.isEmpty { lines.append("  -") }
        lines.append("consents:")
        for consent in person.consents {
            lines.append(
                "  \(consent.category.isEmpty ? "(all)" : consent.category): \(consent.action.rawValue) at \(Self.instant(consent.timestamp))"
                    + (consent.validUntil.map { ", valid until \($0)" } ?? "")
                    + (consent.expiresAt.map { " (\(Self.instant($0)))" } ?? ""))
        }
        if person.consents.isEmpty { lines.append("  -") }
        lines.append("events: \(person.eventCount) stored; the last \(person.recentEvents.count):")
        for event in person.recentEvents {
            let data = event.data.isEmpty ? "" : " " + JSONValue.object(event.data).jsonText()
            lines.append("  \(Self.instant(event.timestamp))  \(event.name)\(data)  [\(event.eventId)]")
        }
        lines.append("exposures:")
        for (selector, records) in person.exposures.sorted(by: { $0.key < $1.key }) {
            let arms = records.map { "\($0.arm)\($0.control ? " (control)" : "") at \(Self.instant($0.timestamp))" }
            lines.append("  \(selector): \(records.count) — " + arms.suffix(5).joined(separator: "; "))
        }
        if person.exposures.isEmpty { lines.append("  -") }
        lines.append("sticky assignments:")
        for (selector, assignment) in person.assignments.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "  \(selector): \(assignment.arm)\(assignment.control ? " (control)" : "") (bucket version \(assignment.bucketVersion))"
            )
        }
        if person.assignments.isEmpty { lines.append("  -") }
        return lines.joined(separator: "\n")
    }

    static func jsonReport(_ person: PersonRecord) -> JSONValue {
        .object([
            "personId": .string(person.personId),
            "profileIds": .array(person.profileIds.map(JSONValue.string)),
            "userIds": .array(person.userIds.map(JSONValue.string)),
            "accountIds": .array(person.accountIds.map(JSONValue.string)),
            "optedOut": .bool(person.optedOut),
            "optedOutUntil": person.optedOutUntil.map { .number(Double($0)) } ?? .null,
            "userAttributes": .object(person.userAttributes),
            "accountAttributes": .object(person.accountAttributes),
            "consents": .array(
                person.consents.map {
                    .object([
                        "category": .string($0.category), "action": .string($0.action.rawValue),
                        "timestamp": .number(Double($0.timestamp)),
                        "validUntil": $0.validUntil.map(JSONValue.string) ?? .null,
                        "expiresAt": $0.expiresAt.map { .number(Double($0)) } ?? .null,
                    ])
                }),
            "eventCount": .number(Double(person.eventCount)),
            "recentEvents": .array(
                person.recentEvents.map {
                    .object([
                        "eventId": .string($0.eventId), "name": .string($0.name),
                        "timestamp": .number(Double($0.timestamp)),
                        "data": .object($0.data),
                    ])
                }),
            "exposures": .object(
                person.exposures.mapValues { records in
                    .array(
                        records.map {
                            .object([
                                "arm": .string($0.arm), "timestamp": .number(Double($0.timestamp)),
                                "sessionId": $0.sessionId.map(JSONValue.string) ?? .null, "control": .bool($0.control),
                            ])
                        })
                }),
            "assignments": .object(
                person.assignments.mapValues {
                    .object([
                        "arm": .string($0.arm), "control": .bool($0.control),
                        "bucketVersion": .number(Double($0.bucketVersion)),
                    ])
                }),
        ])
    }

    static func instant(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
