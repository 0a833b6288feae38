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
    /// The person a user id names, else the one a profile id names: one statement for both.
    func lookUpPerson(userId: String?, profileId: String?) async throws -> String? {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let userId, !userId.isEmpty {
            binds.append(.text(userId))
            conditions.append("(kind = 'user' AND value = $\(binds.count))")
        }
        if let profileId, !profileId.isEmpty {
            binds.append(.text(profileId))
            conditions.append("(kind = 'profile' AND value = $\(binds.count))")
        }
        guard !conditions.isEmpty else { return nil }
        let rows = try await backend.read(
            "SELECT kind, person_id FROM identities WHERE " + conditions.joined(separator: " OR "), binds)
        return (rows.first { $0[0].text == "user" } ?? rows.first)?[1].text
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
