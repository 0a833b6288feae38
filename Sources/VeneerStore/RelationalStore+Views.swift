import Foundation
import VeneerCore

extension RelationalStore {
    /// One statement, whatever the view holds: the person its identities name, and everything the view needs,
    /// in one compound query whose rows say by their first column what they are (each statement is a trip to
    /// the database, and a view is read on every profile cache miss and refresh). With `since`, events and
    /// exposures are read from that time on only, through the same indexes: a long history costs a refresh
    /// nothing.
    func profileRead(
        for identification: DecisionRequest.Identification, keys: Set<EventKey>, since: Int64?
    ) async throws
        -> ProfileRead
    {
        guard
            let (person, identityBinds) = Self.personNamed(
                userId: identification.userId, profileId: identification.profileId)
        else { return ProfileRead(view: ProfileView(), personId: nil, since: since) }
        var binds = identityBinds
        let names = Array(Set(keys.map(\.event))).sorted()
        let filteredNames = Array(Set(keys.filter { $0.filter != nil }.map(\.event))).sorted()
        let namesStart = binds.count + 1
        binds += names.map(SQLValue.text)
        let filteredStart = binds.count + 1
        if !filteredNames.isEmpty, filteredNames.count != names.count {
            binds += filteredNames.map(SQLValue.text)
        }
        // The time bound is bound last, after the names.
        let recent = since == nil ? "" : " AND ts >= $\(binds.count + 1)"
        if let since { binds.append(.integer(since)) }
        var parts = [
            // PostgreSQL types a compound query's columns from its first part: the NULLs there say what they stand for.
            """
            SELECT 0 AS part, key AS a, value AS b, CAST(NULL AS BIGINT) AS n, CAST(NULL AS TEXT) AS c,
              CAST(NULL AS BIGINT) AS m, CAST(NULL AS TEXT) AS o FROM attributes WHERE person_id = \(person)
            """,
            """
            SELECT 1, a.key, a.value, a.updated_at, NULL, NULL, NULL FROM person_accounts p
            JOIN account_attributes a ON a.account_id = p.account_id WHERE p.person_id = \(person)
            """,
            // Exposures are events: their rows say which optimization, arm and control.
            """
            SELECT 3, exposure_selector, exposure_arm, ts, session_id, exposure_control, event_id FROM events
            WHERE person_id = \(person) AND name = '\(TrackEvent.exposureName)' AND exposure_selector IS NOT NULL
            """ + recent,
            "SELECT 4, selector, arm, bucket_version, NULL, control, NULL FROM assignments WHERE person_id = \(person)",
            "SELECT 5, \(person), NULL, NULL, NULL, NULL, NULL",
        ]
        if !names.isEmpty {
            // Only filters read an event's data. Without it, (person, ts, name) is all a row needs, which the
            // events_person_time index holds: a long history is read from the index alone, and a tail is a range.
            let data =
                filteredNames.isEmpty
                ? "NULL"
                : filteredNames.count == names.count
                    ? "data"
                    : "CASE WHEN name IN (\(placeholders(filteredNames.count, from: filteredStart))) THEN data END"
            parts.append(
                "SELECT 2, name, \(data), ts, NULL, NULL, NULL FROM events WHERE person_id = \(person) "
                    + "AND name IN (\(placeholders(names.count, from: namesStart)))" + recent)
        }
        let rows = try await backend.read(parts.joined(separator: " UNION ALL "), binds)

        var view = ProfileView()
        var personId: String?
        var accountRows: [SQLRow] = []
        var eventRows: [SQLRow] = []
        var exposureRows: [SQLRow] = []
        for row in rows {
            switch row[0].integer {
            case 0:
                if let key = row[1].text { view.userAttributes[key] = Self.parseValue(row[2].text) }
            case 1: accountRows.append(row)
            case 2: eventRows.append(row)
            case 3: exposureRows.append(row)
            case 4:
                guard let selector = row[1].text, let arm = row[2].text else { continue }
                view.assignments[selector] = StickyAssignment(
                    arm: arm, control: row[5].bool, bucketVersion: Int(row[3].integer ?? 1))
            case 5: personId = row[1].text
            default: continue
            }
        }
        // Where two accounts set one key, the later wins.
        accountRows.sort { ($0[3].integer ?? 0) < ($1[3].integer ?? 0) }
        for row in accountRows {
            if let key = row[1].text { view.accountAttributes[key] = Self.parseValue(row[2].text) }
        }
        let filtered = Set(filteredNames)
        eventRows.sort { ($0[3].integer ?? 0) < ($1[3].integer ?? 0) }
        for row in eventRows {
            guard let name = row[1].text, let timestamp = row[3].integer else { continue }
            let data = filtered.contains(name) ? Self.parseObject(row[2].text) : [:]
            view.record(event: name, data: data, timestamp: timestamp, keys: keys)
        }
        exposureRows.sort { left, right in
            let (a, b) = (left[3].integer ?? 0, right[3].integer ?? 0)
            return a != b ? a < b : (left[6].text ?? "") < (right[6].text ?? "")
        }
        for row in exposureRows {
            guard let selector = row[1].text, let arm = row[2].text else { continue }
            view.exposures[selector, default: []].append(
                ExposureRecord(arm: arm, timestamp: row[3].integer ?? 0, sessionId: row[4].text, control: row[5].bool))
        }
        return ProfileRead(view: view, personId: personId, since: since)
    }

    func person(_ id: String) async throws -> PersonRecord? {
        var personId = try await lookUpPerson(userId: id, profileId: id)
        if personId == nil {
            personId = try await backend.read("SELECT id FROM persons WHERE id = $1", [.text(id)]).first?[0].text
        }
        guard let person = personId else { return nil }
        var profileIds: [String] = []
        var userIds: [String] = []
        for row in try await backend.read(
            "SELECT kind, value FROM identities WHERE person_id = $1 ORDER BY kind, value", [.text(person)])
        {
            if row[0].text == "profile", let value = row[1].text { profileIds.append(value) }
            if row[0].text == "user", let value = row[1].text { userIds.append(value) }
        }
        let accountIds = try await backend.read(
            "SELECT account_id FROM person_accounts WHERE person_id = $1 ORDER BY account_id", [.text(person)]
        ).compactMap { $0[0].text }
        let consents = try await backend.read(
            "SELECT category, action, ts, valid_until, expires_at FROM consents WHERE person_id = $1 ORDER BY ts",
            [.text(person)]
        ).compactMap { row -> PersonRecord.ConsentState? in
            guard let category = row[0].text, let action = row[1].text.flatMap(Consent.Action.init(rawValue:)) else {
                return nil
            }
            return PersonRecord.ConsentState(
                category: category, action: action, timestamp: row[2].integer ?? 0, validUntil: row[3].text,
                expiresAt: row[4].integer)
        }
        let optedOutUntil =
            try await backend.read("SELECT opted_out_until FROM persons WHERE id = $1", [.text(person)])
            .first?[0].integer ?? 0
        let eventCount =
            try await backend.read("SELECT COUNT(*) FROM events WHERE person_id = $1", [.text(person)])
            .first?[0].integer ?? 0
        let recent = try await backend.read(
            """
            SELECT event_id, name, type, ts, source_id, profile_id, user_id, account_id, another_user_id, session_id,
              data, user_attributes, account_attributes
            FROM events WHERE person_id = $1 ORDER BY ts DESC, received_at DESC LIMIT 20
            """, [.text(person)]
        ).map { row in
            TrackEvent(
                eventId: row[0].text ?? "", name: row[1].text ?? "", type: row[2].text, timestamp: row[3].integer ?? 0,
                sourceId: row[4].text, profileId: row[5].text, userId: row[6].text, accountId: row[7].text,
                anotherUserId: row[8].text, sessionId: row[9].text, data: Self.parseObject(row[10].text),
                userAttributes: Self.parseObject(row[11].text), accountAttributes: Self.parseObject(row[12].text))
        }
        return PersonRecord(
            personId: person, profileIds: profileIds, userIds: userIds, accountIds: accountIds,
            userAttributes: try await userAttributes(of: person),
            accountAttributes: try await accountAttributes(of: person),
            consents: consents, optedOut: optedOutUntil > EpochClock.milliseconds(),
            optedOutUntil: optedOutUntil > 0 && optedOutUntil < Int64.max ? optedOutUntil : nil,
            eventCount: Int(eventCount), recentEvents: recent,
            exposures: try await exposures(of: person), assignments: try await assignments(of: person))
    }

    private func userAttributes(of person: String) async throws -> [String: JSONValue] {
        var attributes: [String: JSONValue] = [:]
        for row in try await backend.read("SELECT key, value FROM attributes WHERE person_id = $1", [.text(person)]) {
            if let key = row[0].text { attributes[key] = Self.parseValue(row[1].text) }
        }
        return attributes
    }

    /// The attributes of every account the person belongs to; where two accounts set one key, the later wins.
    private func accountAttributes(of person: String) async throws -> [String: JSONValue] {
        var attributes: [String: JSONValue] = [:]
        for row in try await backend.read(
            """
            SELECT a.key, a.value FROM person_accounts p JOIN account_attributes a ON a.account_id = p.account_id
            WHERE p.person_id = $1 ORDER BY a.updated_at
            """, [.text(person)])
        {
            if let key = row[0].text { attributes[key] = Self.parseValue(row[1].text) }
        }
        return attributes
    }

    private func exposures(of person: String) async throws -> [String: [ExposureRecord]] {
        var exposures: [String: [ExposureRecord]] = [:]
        for row in try await backend.read(
            """
            SELECT exposure_selector, exposure_arm, ts, session_id, exposure_control FROM events
            WHERE person_id = $1 AND name = $2 AND exposure_selector IS NOT NULL ORDER BY ts, event_id
            """, [.text(person), .text(TrackEvent.exposureName)])
        {
            guard let selector = row[0].text, let arm = row[1].text else { continue }
            exposures[selector, default: []].append(
                ExposureRecord(arm: arm, timestamp: row[2].integer ?? 0, sessionId: row[3].text, control: row[4].bool))
        }
        return exposures
    }

    private func assignments(of person: String) async throws -> [String: StickyAssignment] {
        var assignments: [String: StickyAssignment] = [:]
        for row in try await backend.read(
            "SELECT selector, arm, control, bucket_version FROM assignments WHERE person_id = $1", [.text(person)])
        {
            guard let selector = row[0].text, let arm = row[1].text else { continue }
            assignments[selector] = StickyAssignment(
                arm: arm, control: row[2].bool, bucketVersion: Int(row[3].integer ?? 1))
        }
        return assignments
    }
}
