import Foundation
import VeneerCore

extension RelationalStore {
    struct ResolvedPerson {
        var id: String
        var optedOut: Bool
        /// Every identity was already linked to this one person: resolving them again gives the same answer
        /// until something links or merges.
        var settled = false
        /// Identities that belonged to some person now belong to another (a merge, or a device's profile id
        /// moving to the user who signed in): what was read about other identities before may be stale.
        var reassigned = false
    }

    /// A row of the identities table: a profile id or a user id. Hashable, so that it keys dictionaries of
    /// owners without a string formatted for each.
    struct Identity: Hashable {
        var kind: String
        var value: String
    }

    /// The identities an event names, in the order `resolvePerson` links them.
    static func identities(profileId: String?, userId: String?, anotherUserId: String?) -> [Identity] {
        var identities: [Identity] = []
        if let profileId, !profileId.isEmpty { identities.append(Identity(kind: "profile", value: profileId)) }
        if let userId, !userId.isEmpty { identities.append(Identity(kind: "user", value: userId)) }
        if let anotherUserId, !anotherUserId.isEmpty, anotherUserId != userId {
            identities.append(Identity(kind: "user", value: anotherUserId))
        }
        return identities
    }

    /// Owners of already linked identities, with whether each owner is opted out now: one query for a whole
    /// batch. An event whose identities all belong to one of these persons resolves to that person with
    /// nothing to link or merge, which is what `resolvePerson` would find in the same transaction.
    static func knownOwners(
        of identities: some Collection<Identity>, in session: any SQLSession
    ) async throws -> [Identity: (person: String, optedOut: Bool)] {
        var owners: [Identity: (person: String, optedOut: Bool)] = [:]
        let now = EpochClock.milliseconds()
        let all = Array(identities)
        for run in powerOfTwoRuns(all.count, largest: 256) {
            let (condition, binds) = matching(all[run], prefix: "i.")
            let rows = try await session.query(
                "SELECT i.kind, i.value, i.person_id, p.opted_out_until FROM identities i JOIN persons p ON p.id = i.person_id WHERE "
                    + condition, binds)
            for row in rows {
                if let kind = row[0].text, let value = row[1].text, let person = row[2].text {
                    owners[Identity(kind: kind, value: value)] = (person, (row[3].integer ?? 0) > now)
                }
            }
        }
        return owners
    }

    /// `(kind = $1 AND value = $2) OR …` for these identities, with its binds; `prefix` names the table.
    static func matching(
        _ identities: some Collection<Identity>, prefix: String
    ) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        for identity in identities {
            conditions.append("(\(prefix)kind = $\(binds.count + 1) AND \(prefix)value = $\(binds.count + 2))")
            binds.append(.text(identity.kind))
            binds.append(.text(identity.value))
        }
        return (conditions.joined(separator: " OR "), binds)
    }

    /// Finds or creates the person that owns these identities, linking the new ones and merging persons the
    /// event joins. Two persons that each have a different user id are merged only by an alias; otherwise a
    /// shared device's profile id moves to the user who signed in last.
    static func resolvePerson(
        profileId: String?, userId: String?, anotherUserId: String?, at timestamp: Int64, in session: any SQLSession,
        linkWhenOptedOut: Bool = false
    ) async throws -> ResolvedPerson? {
        let identities = Self.identities(profileId: profileId, userId: userId, anotherUserId: anotherUserId)
        guard !identities.isEmpty else { return nil }

        let (condition, binds) = matching(identities, prefix: "")
        let rows = try await session.query("SELECT kind, value, person_id FROM identities WHERE " + condition, binds)
        var owners: [Identity: String] = [:]
        for row in rows {
            if let kind = row[0].text, let value = row[1].text, let person = row[2].text {
                owners[Identity(kind: kind, value: value)] = person
            }
        }
        // A person who rejected consent gets no new links or merges from events either, while the reject holds.
        let known = Array(Set(owners.values))
        let now = EpochClock.milliseconds()
        if !linkWhenOptedOut, !known.isEmpty,
            let optedOut = try await session.query(
                "SELECT id FROM persons WHERE opted_out_until > $1 AND id IN (\(placeholders(known.count, from: 2)))",
                [.integer(now)] + known.map(SQLValue.text)
            ).first?[0].text
        {
            return ResolvedPerson(id: optedOut, optedOut: true)
        }
        let profileOwner = profileId.flatMap { owners[Identity(kind: "profile", value: $0)] }
        let userOwner = userId.flatMap { owners[Identity(kind: "user", value: $0)] }
        let isAlias = anotherUserId.map { !$0.isEmpty } ?? false

        var winner: String
        var reassigned = false
        let persons = Array(Set(owners.values))
        if persons.isEmpty {
            winner = try await createPerson(at: timestamp, in: session)
        } else if !isAlias, let profileId, let userId, !userId.isEmpty,
            let profileOwner, profileOwner != userOwner,
            try await hasOtherUser(profileOwner, than: userId, in: session)
        {
            // The device belonged to someone else who signed in: it now belongs to this user.
            if let userOwner {
                winner = userOwner
            } else {
                winner = try await createPerson(at: timestamp, in: session)
            }
            try await session.execute(
                "UPDATE identities SET person_id = $1 WHERE kind = 'profile' AND value = $2",
                [.text(winner), .text(profileId)])
            reassigned = true
        } else if persons.count == 1 {
            winner = persons[0]
        } else {
            let ordered = try await session.query(
                "SELECT id FROM persons WHERE id IN (\(placeholders(persons.count, from: 1))) ORDER BY created_at, id",
                persons.map(SQLValue.text))
            winner = ordered.first?[0].text ?? persons.sorted()[0]
            for loser in persons where loser != winner {
                try await merge(loser, into: winner, in: session)
            }
            reassigned = true
        }

        let settled = persons.count == 1 && owners.count == identities.count
        for identity in identities where owners[identity] == nil {
            try await session.execute(
                "INSERT INTO identities (kind, value, person_id) VALUES ($1, $2, $3) ON CONFLICT (kind, value) DO UPDATE SET person_id = excluded.person_id",
                [.text(identity.kind), .text(identity.value), .text(winner)])
        }
        let optedOut =
            try await session.query("SELECT opted_out_until FROM persons WHERE id = $1", [.text(winner)])
            .first.map { ($0[0].integer ?? 0) > now } ?? false
        return ResolvedPerson(id: winner, optedOut: optedOut, settled: settled, reassigned: reassigned)
    }

    private static func createPerson(at timestamp: Int64, in session: any SQLSession) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await session.execute(
            "INSERT INTO persons (id, created_at, opted_out, opted_out_until) VALUES ($1, $2, 0, 0)",
            [.text(id), .integer(EpochClock.milliseconds())])
        return id
    }

    private static func hasOtherUser(
        _ person: String, than userId: String, in session: any SQLSession
    ) async throws
        -> Bool
    {
        let rows = try await session.query(
            "SELECT value FROM identities WHERE person_id = $1 AND kind = 'user' AND value <> $2 LIMIT 1",
            [.text(person), .text(userId)])
        return !rows.isEmpty
    }

    /// Moves everything of `loser` to `winner`: identities, events (exposures among them); attributes, assignments and
    /// consents keep the later (attributes, consents) or the established (assignments) value.
    static func merge(_ loser: String, into winner: String, in session: any SQLSession) async throws {
        let pair: [SQLValue] = [.text(winner), .text(loser)]
        try await session.execute("UPDATE identities SET person_id = $1 WHERE person_id = $2", pair)
        try await session.execute("UPDATE events SET person_id = $1 WHERE person_id = $2", pair)
        try await session.execute(
            """
            INSERT INTO attributes (person_id, key, value, updated_at)
            SELECT $1, key, value, updated_at FROM attributes WHERE person_id = $2
            ON CONFLICT (person_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            WHERE excluded.updated_at > attributes.updated_at
            """, pair)
        try await session.execute("DELETE FROM attributes WHERE person_id = $1", [.text(loser)])
        try await session.execute(
            """
            INSERT INTO person_accounts (person_id, account_id, linked_at)
            SELECT $1, account_id, linked_at FROM person_accounts WHERE person_id = $2
            ON CONFLICT (person_id, account_id) DO NOTHING
            """, pair)
        try await session.execute("DELETE FROM person_accounts WHERE person_id = $1", [.text(loser)])
        try await session.execute(
            """
            INSERT INTO assignments (person_id, selector, arm, control, bucket_version, assigned_at)
            SELECT $1, selector, arm, control, bucket_version, assigned_at FROM assignments WHERE person_id = $2
            ON CONFLICT (person_id, selector) DO UPDATE SET arm = excluded.arm, control = excluded.control,
              bucket_version = excluded.bucket_version, assigned_at = excluded.assigned_at
            WHERE excluded.bucket_version > assignments.bucket_version
              OR (excluded.bucket_version = assignments.bucket_version AND excluded.assigned_at < assignments.assigned_at)
            """, pair)
        try await session.execute("DELETE FROM assignments WHERE person_id = $1", [.text(loser)])
        try await session.execute(
            """
            INSERT INTO consents (person_id, category, action, ts, valid_until, expires_at, body)
            SELECT $1, category, action, ts, valid_until, expires_at, body FROM consents WHERE person_id = $2
            ON CONFLICT (person_id, category) DO UPDATE SET action = excluded.action, ts = excluded.ts,
              valid_until = excluded.valid_until, expires_at = excluded.expires_at, body = excluded.body
            WHERE excluded.ts > consents.ts
            """, pair)
        try await session.execute("DELETE FROM consents WHERE person_id = $1", [.text(loser)])
        try await session.execute("DELETE FROM persons WHERE id = $1", [.text(loser)])
        try await refreshOptOut(winner, in: session)
    }

    /// A person is opted out while their most recent consent, in any category, is a reject that has not
    /// reached its `validUntil`; once it has, nothing holds them back (a newer consent replaces an older one,
    /// so an expired reject does not bring back an accept or reject before it).
    static func refreshOptOut(_ person: String, in session: any SQLSession) async throws {
        let latest = try await session.query(
            "SELECT action, expires_at FROM consents WHERE person_id = $1 ORDER BY ts DESC LIMIT 1", [.text(person)])
        var until: Int64 = 0
        if let row = latest.first, row[0].text == Consent.Action.reject.rawValue {
            until = row[1].integer ?? Int64.max
        }
        try await session.execute(
            "UPDATE persons SET opted_out_until = $1 WHERE id = $2", [.integer(until), .text(person)])
    }
}
