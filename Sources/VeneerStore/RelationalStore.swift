import Foundation
import Logging
import VeneerCore

/// The one implementation of `Store`, over SQLite or PostgreSQL: the same statements, the same behaviour.
final class RelationalStore: Store {
    let backend: any SQLBackend
    let logger: Logger

    init(backend: any SQLBackend, logger: Logger) {
        self.backend = backend
        self.logger = logger
    }

    func close() async throws {
        try await backend.close()
    }

    /// The person a user id names, else the one a profile id names, without creating one: one statement for both.
    func lookUpPerson(userId: String?, profileId: String?) async throws -> String? {
        let identities = Self.identities(profileId: profileId, userId: userId, anotherUserId: nil)
        guard !identities.isEmpty else { return nil }
        let (condition, binds) = Self.matching(identities, prefix: "")
        let rows = try await backend.read("SELECT kind, person_id FROM identities WHERE " + condition, binds)
        return (rows.first { $0[0].text == "user" } ?? rows.first)?[1].text
    }

    static func json(_ object: [String: JSONValue]) -> String {
        // Most events carry no attributes: three columns of them per event.
        object.isEmpty ? "{}" : JSONValue.object(object).jsonText()
    }

    static func parseObject(_ text: String?) -> [String: JSONValue] {
        guard let text, let value = try? JSONValue(jsonData: Data(text.utf8)) else { return [:] }
        return value.objectValue ?? [:]
    }

    static func parseValue(_ text: String?) -> JSONValue {
        guard let text, let value = try? JSONValue(jsonData: Data(text.utf8)) else { return .null }
        return value
    }
}
