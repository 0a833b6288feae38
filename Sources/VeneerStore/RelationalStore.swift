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

    /// The person a user id (preferred) or profile id belongs to, without creating one.
    func lookUpPerson(userId: String?, profileId: String?) async throws -> String? {
        if let userId, !userId.isEmpty,
            let row = try await backend.read(
                "SELECT person_id FROM identities WHERE kind = 'user' AND value = $1", [.text(userId)]
            ).first
        {
            return row[0].text
        }
        if let profileId, !profileId.isEmpty,
            let row = try await backend.read(
                "SELECT person_id FROM identities WHERE kind = 'profile' AND value = $1", [.text(profileId)]
            ).first
        {
            return row[0].text
        }
        return nil
    }

    static func json(_ object: [String: JSONValue]) -> String {
        JSONValue.object(object).jsonText()
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
