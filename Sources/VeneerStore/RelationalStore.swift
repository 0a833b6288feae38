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
        guard let (person, binds) = Self.personNamed(userId: userId, profileId: profileId) else { return nil }
        return try await backend.read("SELECT \(person)", binds).first?[0].text
    }

    /// The person a user id names, else the one a profile id names, as a scalar subquery with its binds (from
    /// `$1`), for a statement that reads the person's rows in the same trip; nil without either id.
    static func personNamed(userId: String?, profileId: String?) -> (subquery: String, binds: [SQLValue])? {
        let identities = identities(profileId: profileId, userId: userId, anotherUserId: nil)
        guard !identities.isEmpty else { return nil }
        let (condition, binds) = matching(identities, prefix: "")
        return (
            """
            (SELECT person_id FROM identities WHERE \(condition)
            ORDER BY CASE WHEN kind = 'user' THEN 0 ELSE 1 END LIMIT 1)
            """, binds
        )
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
