import Foundation
import Testing
import VeneerCore
import VeneerServer
import VeneerStore

/// Exactly what Intempt's public SDKs put on the wire (INTEMPT-API.md §2.1 for node 1.x, §1–§5 for the Python
/// 2.x wheel), sent unchanged: the calls work against Veneer by changing only the host.
@Suite("API: client wire formats", .timeLimit(.minutes(3)))
struct APIClientWireTests {
    private func withServer(_ body: (APITestServer) async throws -> Void) async throws {
        let server = try await APITestServer.start()
        do {
            try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }

    private static func uuid() -> String { UUID().uuidString.lowercased() }
    private static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: node 1.x: ?apiKey= on every call, sources/{sourceId}/track, no `type`, ms timestamps everywhere.

    /// node 1.x `TrackingClient.single`: one entry, one payload item.
    private func node1Track(_ server: APITestServer, name: String, item: String) async throws -> APITestServer.Reply {
        try await server.post(
            "/sources/\(APITestServer.sourceId)/track",
            #"{"track":[{"name":"\#(name)","payload":[{"eventId":"\#(Self.uuid())","timestamp":\#(Self.nowMs()),\#(item)}]}]}"#,
            auth: .query)
    }

    @Test func node1TrackingCalls() async throws {
        try await withServer { server in
            // identify(profileId, userId) with the default title: Identify, userAttributes dropped.
            #expect(
                try await node1Track(server, name: "Identify", item: #""profileId":"n1-device","userId":"ada@x.com""#)
                    .status == 201)
            // identify with a custom title carries userAttributes.
            #expect(
                try await node1Track(
                    server, name: "Signed up",
                    item: #""profileId":"n1-device","userId":"ada@x.com","userAttributes":{"plan":"pro"}"#
                ).status == 201)
            // group(profileId, accountId, 'Identify', accountAttributes) — the default title sends no attributes,
            // so use the custom-title form for them too.
            #expect(
                try await node1Track(server, name: "Identify", item: #""profileId":"n1-device","accountId":"acme-inc""#)
                    .status == 201)
            #expect(
                try await node1Track(
                    server, name: "Account created",
                    item: #""profileId":"n1-device","accountId":"acme-inc","accountAttributes":{"tier":"enterprise"}"#
                ).status == 201)
            // track(profileId, title, data)
            #expect(
                try await node1Track(
                    server, name: "Viewed pricing", item: #""profileId":"n1-device","data":{"plan":"pro"}"#
                ).status == 201)
            // record(profileId, title, userId, accountId, data, userAttributes, accountAttributes)
            #expect(
                try await node1Track(
                    server, name: "Upgraded",
                    item:
                        #""profileId":"n1-device","userId":"ada@x.com","accountId":"acme-inc","data":{"from":"free"},"userAttributes":{"seats":3},"accountAttributes":{"mrr":990}"#
                ).status == 201)
            // alias(profileId, userId, anotherUserId)
            #expect(
                try await node1Track(
                    server, name: "Identify",
                    item: #""profileId":"n1-device","userId":"ada@x.com","anotherUserId":"ada.old@x.com""#
                ).status == 201)
            // productAdd / productView
            #expect(
                try await node1Track(
                    server, name: "Added to cart",
                    item: #""profileId":"n1-device","data":{"productId":"sku-1","quantity":2}"#
                ).status == 201)
            #expect(
                try await node1Track(
                    server, name: "Product viewed", item: #""profileId":"n1-device","data":{"productId":"sku-1"}"#
                ).status == 201)
            // productOrdered: one item per product, one shared eventId and timestamp.
            let orderId = Self.uuid()
            let now = Self.nowMs()
            let ordered = try await server.post(
                "/sources/\(APITestServer.sourceId)/track",
                #"{"track":[{"name":"Product ordered","payload":[{"eventId":"\#(orderId)","timestamp":\#(now),"profileId":"n1-device","data":{"productId":"sku-1","quantity":1}},{"eventId":"\#(orderId)","timestamp":\#(now),"profileId":"n1-device","data":{"productId":"sku-2","quantity":4}}]}]}"#,
                auth: .query)
            #expect(ordered.status == 201)

            let person = try #require(try await server.store.person("ada@x.com"))
            #expect(Set(person.userIds) == ["ada@x.com", "ada.old@x.com"])
            #expect(person.profileIds == ["n1-device"])
            #expect(person.accountIds == ["acme-inc"])
            #expect(person.userAttributes["plan"] == "pro")
            #expect(person.userAttributes["seats"] == 3)
            #expect(person.accountAttributes["tier"] == "enterprise")
            #expect(person.accountAttributes["mrr"] == 990)
            #expect(person.eventCount == 11)
        }
    }

    @Test func node1ConsentsSendMillisecondsAndNoCategory() async throws {
        try await withServer { server in
            // consents(profileId, action, validUntil?, email?, message?) — timestamp in ms (a node 1.x bug).
            let reject = try await server.post(
                "/consents/data",
                #"{"action":"reject","timestamp":\#(Self.nowMs()),"profileId":"n1-consent","sourceId":"\#(APITestServer.sourceId)","validUntil":"unlimited","source":"NodeJs tracker","email":"a@x.com","message":"no thanks"}"#,
                auth: .query)
            #expect(reject.status == 200)
            #expect(
                try await node1Track(server, name: "Viewed pricing", item: #""profileId":"n1-consent""#).status == 201)
            #expect(try await server.store.person("n1-consent")?.eventCount == 0)
            // consent(profileId, action, category, …)
            let accept = try await server.post(
                "/consents/data",
                #"{"action":"accept","timestamp":\#(Self.nowMs() + 1000),"profileId":"n1-consent","sourceId":"\#(APITestServer.sourceId)","validUntil":"unlimited","source":"NodeJs tracker","category":"analytics"}"#,
                auth: .query)
            #expect(accept.status == 200)
            #expect(
                try await node1Track(server, name: "Viewed pricing", item: #""profileId":"n1-consent""#).status == 201)
            let person = try #require(try await server.store.person("n1-consent"))
            #expect(person.eventCount == 1)
            #expect(Set(person.consents.map(\.category)) == ["", "analytics"])
        }
    }

    @Test func node1ChooseCalls() async throws {
        try await withServer { server in
            func choose(_ filter: String, _ type: String) async throws -> [JSONValue] {
                let reply = try await server.post(
                    "/optimization/choose-api",
                    #"{"identification":{"profileId":"n1-chooser","sourceId":"\#(APITestServer.sourceId)"},\#(filter),"optimizationType":"\#(type)","device":"all"}"#,
                    auth: .query)
                #expect(reply.status == 200)
                return try #require(reply.json?["choices"]?.arrayValue)
            }
            // chooseExperimentsByNames / ByGroups
            let byName = try await choose(#""names":["checkout-cta"]"#, "experiment")
            #expect(byName.map { $0["name"] } == ["checkout-cta"])
            let byGroup = try await choose(#""groups":["cta"]"#, "experiment")
            #expect(byGroup.first?["group"] == byName.first?["group"])
            // choosePersonalizationsByNames / ByGroups
            let personalization = try await choose(#""names":["welcome"]"#, "personalization")
            #expect(personalization.map { $0["name"] } == ["welcome"])
            // `once`: already shown, so the group call finds nothing more.
            #expect(try await choose(#""groups":["banner"]"#, "personalization") == [])
            // An experiment asked for as a personalization is not served.
            #expect(try await choose(#""names":["checkout-cta"]"#, "personalization") == [])
        }
    }

    // MARK: Python 2.x wheel: Basic auth, X-Intempt-Lib, one request per call, seconds for consent.

    private var pythonHeaders: [(String, String)] {
        [("X-Intempt-Lib", "intempt-python/2.0.0"), ("Connection", "keep-alive")]
    }

    @Test func pythonTrackIdentifyGroupAndConsent() async throws {
        try await withServer { server in
            func send(_ name: String, _ item: String) async throws -> Int {
                try await server.post(
                    "/sources/\(APITestServer.sourceId)/track",
                    #"{"track":[{"name":"\#(name)","payload":[{"eventId":"\#(Self.uuid())","timestamp":\#(Self.nowMs()),\#(item)}]}]}"#,
                    headers: pythonHeaders
                ).status
            }
            // track(event, user_id=…, properties=…)
            #expect(try await send("Purchase", #""userId":"py-user","data":{"amount":42.5}"#) == 201)
            // identify(user_id, traits)
            #expect(try await send("Identify", #""userId":"py-user","userAttributes":{"first_name":"Grace"}"#) == 201)
            // group(account_id, attributes) with a user
            #expect(
                try await send(
                    "Identify", #""userId":"py-user","accountId":"py-corp","accountAttributes":{"industry":"navy"}"#)
                    == 201)
            // The track path without a source id works too.
            let pathless = try await server.post(
                "/track",
                #"{"track":[{"name":"Purchase","payload":[{"eventId":"\#(Self.uuid())","timestamp":\#(Self.nowMs()),"userId":"py-user","data":{"amount":1}}]}]}"#,
                headers: pythonHeaders)
            #expect(pathless.status == 201)
            // consent.revoke / consent.grant: seconds, userId only (no sourceId needed).
            let seconds = Int64(Date().timeIntervalSince1970)
            let revoke = try await server.post(
                "/consents/data",
                #"{"action":"reject","timestamp":\#(seconds),"userId":"py-user","validUntil":"unlimited","source":"Python tracker","category":"marketing"}"#,
                headers: pythonHeaders)
            #expect(revoke.status == 200)
            #expect(try await send("Purchase", #""userId":"py-user","data":{"amount":9}"#) == 201)
            let grant = try await server.post(
                "/consents/data",
                #"{"action":"accept","timestamp":\#(seconds + 1),"userId":"py-user","validUntil":"unlimited","source":"Python tracker","category":"marketing"}"#,
                headers: pythonHeaders)
            #expect(grant.status == 200)

            let person = try #require(try await server.store.person("py-user"))
            #expect(person.eventCount == 4)
            #expect(person.userAttributes["first_name"] == "Grace")
            #expect(person.accountAttributes["industry"] == "navy")
            #expect(person.consents.first?.timestamp == (seconds + 1) * 1000)
            #expect(!person.optedOut)
            // With only a userId, the server set profileId = userId.
            #expect(person.profileIds == ["py-user"])
        }
    }

    @Test func pythonVariationAndAllFlags() async throws {
        try await withServer { server in
            // variation(key, context, default): names = [key]; the wheel sends device "all" and a sessionId.
            let variation = try await server.post(
                "/optimization/choose-api",
                #"{"identification":{"userId":"py-flags"},"names":["checkout-cta"],"device":"all","sessionId":"py-session"}"#,
                headers: pythonHeaders)
            #expect(variation.status == 200)
            let arm = try #require(variation.json?["choices"]?.arrayValue?.first?["group"]?.stringValue)
            // all_flags(context): names omitted, every served flag comes back, the same arm again.
            let all = try await server.post(
                "/optimization/choose-api",
                #"{"identification":{"userId":"py-flags"},"device":"all","sessionId":"py-session"}"#,
                headers: pythonHeaders)
            #expect(all.status == 200)
            let flags = try #require(all.json?["choices"]?.arrayValue)
            #expect(Set(flags.compactMap { $0["name"]?.stringValue }) == ["checkout-cta", "welcome"])
            #expect(flags.first { $0["name"] == "checkout-cta" }?["group"]?.stringValue == arm)
            // An unknown key is simply absent (the SDK then returns its default).
            let unknown = try await server.post(
                "/optimization/choose-api",
                #"{"identification":{"userId":"py-flags"},"names":["no-such-flag"],"device":"all"}"#,
                headers: pythonHeaders)
            #expect(unknown.json?["choices"]?.arrayValue == [])
        }
    }
}
