import Foundation
import VeneerCore

extension RelationalStore {
    func append(_ events: [TrackEvent]) async throws -> Int {
        // Batches seldom repeat an id: the array is then used as it is, since a filtered copy would copy every
        // event's fields (and a batch holds thousands).
        var seen = Set<String>(minimumCapacity: events.count)
        let repeated = events.contains { !seen.insert($0.eventId).inserted }
        seen.removeAll(keepingCapacity: true)
        let unique = repeated ? events.filter { seen.insert($0.eventId).inserted } : events
        guard !unique.isEmpty else { return 0 }
        return try await backend.transaction { session in
            var existing = Set<String>()
            for run in powerOfTwoRuns(unique.count, largest: 512) {
                let chunk = unique[run]
                let rows = try await session.query(
                    "SELECT event_id FROM events WHERE event_id IN (\(placeholders(chunk.count, from: 1)))",
                    chunk.map { .text($0.eventId) })
                for row in rows { if let id = row[0].text { existing.insert(id) } }
            }
            var added = 0
            // Events are used by their place in `unique` from here on: a batch holds thousands, and each copy of
            // one retains every string and dictionary it holds.
            let fresh = unique.indices.filter { existing.isEmpty || !existing.contains(unique[$0].eventId) }
            let identities = fresh.map { index in
                Self.identities(
                    profileId: unique[index].profileId, userId: unique[index].userId,
                    anotherUserId: unique[index].anotherUserId)
            }
            // Most events come from people already known: one query for the batch answers who they are.
            var wanted = Set<Identity>()
            var lookups: [Identity] = []
            for eventIdentities in identities {
                for identity in eventIdentities where wanted.insert(identity).inserted {
                    lookups.append(identity)
                }
            }
            var known = try await Self.knownOwners(of: lookups, in: session)
            // Events are inserted many rows at a time, always before a resolution that might merge the persons
            // they point at.
            var pending: [(index: Int, person: ResolvedPerson?)] = []
            for (index, eventIdentities) in zip(fresh, identities) {
                var person: ResolvedPerson?
                if let first = eventIdentities.first, let owner = known[first],
                    eventIdentities.allSatisfy({ known[$0]?.person == owner.person })
                {
                    person = ResolvedPerson(id: owner.person, optedOut: owner.optedOut, settled: true)
                } else if !eventIdentities.isEmpty {
                    added += try await Self.insert(unique, pending, in: session)
                    pending.removeAll(keepingCapacity: true)
                    person = try await Self.resolvePerson(
                        profileId: unique[index].profileId, userId: unique[index].userId,
                        anotherUserId: unique[index].anotherUserId, at: unique[index].timestamp, in: session)
                    if let resolved = person {
                        if resolved.reassigned {
                            known = [:]
                        } else if !resolved.optedOut {
                            // Linked now (or already): later events of this person need no resolution.
                            for identity in eventIdentities {
                                known[identity] = (resolved.id, false)
                            }
                        }
                    }
                }
                if person?.optedOut == true { continue }
                pending.append((index, person))
                if pending.count >= Self.insertRun {
                    added += try await Self.insert(unique, pending, in: session)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            added += try await Self.insert(unique, pending, in: session)
            return added
        }
    }

    /// The most events one insert statement takes (18 values each).
    static let insertRun = 256

    /// Inserts events not seen before, then what they carry (attributes, accounts, sticky arms) for those that
    /// were new; returns how many were.
    private static func insert(
        _ events: [TrackEvent], _ batch: [(index: Int, person: ResolvedPerson?)], in session: any SQLSession
    )
        async throws -> Int
    {
        guard !batch.isEmpty else { return 0 }
        let received = EpochClock.milliseconds()
        var inserted = Set<String>(minimumCapacity: batch.count)
        // Read once from each event's data: its row's columns, then its sticky arm, need it.
        let carried = batch.map { events[$0.index].exposure }
        for run in powerOfTwoRuns(batch.count, largest: insertRun) {
            var binds: [SQLValue] = []
            binds.reserveCapacity(run.count * 18)
            for position in run {
                let (index, person) = batch[position]
                let exposure = carried[position]
                binds.append(.text(events[index].eventId))
                binds.append(.text(events[index].name))
                binds.append(SQLValue(events[index].type))
                binds.append(.integer(events[index].timestamp))
                binds.append(SQLValue(person?.id))
                binds.append(SQLValue(events[index].sourceId))
                binds.append(SQLValue(events[index].profileId))
                binds.append(SQLValue(events[index].userId))
                binds.append(SQLValue(events[index].accountId))
                binds.append(SQLValue(events[index].anotherUserId))
                binds.append(SQLValue(events[index].sessionId))
                binds.append(.text(json(events[index].data)))
                binds.append(.text(json(events[index].userAttributes)))
                binds.append(.text(json(events[index].accountAttributes)))
                binds.append(.integer(received))
                binds.append(SQLValue(exposure?.selector))
                binds.append(SQLValue(exposure?.arm))
                binds.append(exposure.map { SQLValue($0.control) } ?? .null)
            }
            let statement = session.dialect.insertSkippingTakenKeys(
                into: """
                    events (event_id, name, type, ts, person_id, source_id, profile_id, user_id, account_id,
                      another_user_id, session_id, data, user_attributes, account_attributes, received_at,
                      exposure_selector, exposure_arm, exposure_control)
                    """, key: "event_id", rows: placeholderRows(run.count, columns: 18), returning: "event_id")
            for row in try await session.query(statement, binds) {
                if let id = row[0].text { inserted.insert(id) }
            }
        }
        var exposures: [(index: Int, person: String, exposure: Exposure)] = []
        for (position, (index, person)) in batch.enumerated() where inserted.contains(events[index].eventId) {
            try await storeCarried(events[index], person: person, in: session)
            if let person, let exposure = carried[position] { exposures.append((index, person.id, exposure)) }
        }
        try await storeAssignments(events, exposures, in: session)
        return inserted.count
    }

    /// Sticky assignments of newly stored exposure events, many rows a statement. The exposure history is the
    /// events themselves, whose rows hold the optimization, arm and control of each.
    private static func storeAssignments(
        _ events: [TrackEvent], _ exposures: [(index: Int, person: String, exposure: Exposure)],
        in session: any SQLSession
    ) async throws {
        guard !exposures.isEmpty else { return }
        // The first exposure's arm sticks until the bucket version moves on. One statement may not upsert a row
        // twice, so the batch is reduced first to what its rows in order would leave: per person and
        // optimization, the first row of the highest bucket version.
        var order: [String] = []
        var assignments: [String: (person: String, exposure: Exposure, at: Int64)] = [:]
        for (index, person, exposure) in exposures {
            let key = person + "\u{0}" + exposure.selector
            if let current = assignments[key] {
                if exposure.bucketVersion > current.exposure.bucketVersion {
                    assignments[key] = (person, exposure, events[index].timestamp)
                }
            } else {
                order.append(key)
                assignments[key] = (person, exposure, events[index].timestamp)
            }
        }
        for run in powerOfTwoRuns(order.count, largest: 128) {
            var binds: [SQLValue] = []
            for key in order[run] {
                guard let (person, exposure, at) = assignments[key] else { continue }
                binds += [
                    .text(person), .text(exposure.selector), .text(exposure.arm), SQLValue(exposure.control),
                    .integer(Int64(exposure.bucketVersion)), .integer(at),
                ]
            }
            guard !binds.isEmpty else { continue }
            try await session.execute(
                """
                INSERT INTO assignments (person_id, selector, arm, control, bucket_version, assigned_at)
                VALUES \(placeholderRows(binds.count / 6, columns: 6))
                ON CONFLICT (person_id, selector) DO UPDATE SET arm = excluded.arm, control = excluded.control,
                  bucket_version = excluded.bucket_version, assigned_at = excluded.assigned_at
                WHERE excluded.bucket_version > assignments.bucket_version
                """, binds)
        }
    }

    /// Attributes and account links of one newly stored event.
    private static func storeCarried(
        _ event: TrackEvent, person: ResolvedPerson?, in session: any SQLSession
    )
        async throws
    {
        if let person, !event.userAttributes.isEmpty {
            try await upsertAttributes(
                table: "attributes", owner: "person_id", id: person.id, event.userAttributes, at: event.timestamp,
                in: session)
        }
        if let accountId = event.accountId, !accountId.isEmpty {
            if let person {
                try await session.execute(
                    "INSERT INTO person_accounts (person_id, account_id, linked_at) VALUES ($1, $2, $3) ON CONFLICT (person_id, account_id) DO NOTHING",
                    [.text(person.id), .text(accountId), .integer(event.timestamp)])
            }
            if !event.accountAttributes.isEmpty {
                try await upsertAttributes(
                    table: "account_attributes", owner: "account_id", id: accountId, event.accountAttributes,
                    at: event.timestamp, in: session)
            }
        }
    }

    /// Later timestamps win, per attribute; equal timestamps let the newer write win.
    private static func upsertAttributes(
        table: String, owner: String, id: String, _ attributes: [String: JSONValue], at timestamp: Int64,
        in session: any SQLSession
    ) async throws {
        var rows: [String] = []
        var binds: [SQLValue] = []
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            let base = binds.count
            rows.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
            binds += [.text(id), .text(key), .text(value.jsonText()), .integer(timestamp)]
        }
        try await session.execute(
            """
            INSERT INTO \(table) (\(owner), key, value, updated_at) VALUES \(rows.joined(separator: ", "))
            ON CONFLICT (\(owner), key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            WHERE excluded.updated_at >= \(table).updated_at
            """, binds)
    }

    func recordConsent(_ consent: Consent) async throws {
        _ = try await backend.transaction { session in
            guard
                let person = try await Self.resolvePerson(
                    profileId: consent.profileId, userId: consent.userId, anotherUserId: nil, at: consent.timestamp,
                    in: session, linkWhenOptedOut: true)
            else { throw StoreError(code: "no-identity", message: "a consent needs a userId or a profileId") }
            try await session.execute(
                """
                INSERT INTO consents (person_id, category, action, ts, valid_until, expires_at, body)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT (person_id, category) DO UPDATE SET action = excluded.action, ts = excluded.ts,
                  valid_until = excluded.valid_until, expires_at = excluded.expires_at, body = excluded.body
                WHERE excluded.ts >= consents.ts
                """,
                [
                    .text(person.id), .text(consent.category ?? ""), .text(consent.action.rawValue),
                    .integer(consent.timestamp), SQLValue(consent.validUntil), SQLValue(consent.expiresAt),
                    .text(Self.json(consent.body)),
                ])
            try await Self.refreshOptOut(person.id, in: session)
            return 0
        }
    }
}
