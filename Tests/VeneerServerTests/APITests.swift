import Foundation
import NIOHTTP1
import Testing
import VeneerCore
import VeneerServer
import VeneerStore

/// The API over real sockets and a real SQLite store: statuses, bodies, auth and every bad input of issue 4.
@Suite("API", .timeLimit(.minutes(3)))
struct APITests {
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

    private func trackBody(_ items: String, name: String = "purchase") -> String {
        #"{"track":[{"name":"\#(name)","payload":[\#(items)]}]}"#
    }

    // MARK: track

    @Test func trackAnswers201WithAnEmptyBodyAndStores() async throws {
        try await withServer { server in
            let reply = try await server.post(
                "/sources/\(APITestServer.sourceId)/track",
                trackBody(#"{"eventId":"ev-1","timestamp":1780000000000,"profileId":"p1","data":{"total":99.99}}"#))
            #expect(reply.status == 201)
            #expect(reply.body.isEmpty)
            let person = try #require(try await server.store.person("p1"))
            #expect(person.eventCount == 1)
            #expect(person.recentEvents.first?.data["total"] == 99.99)
            #expect(person.recentEvents.first?.sourceId == APITestServer.sourceId)
        }
    }

    @Test func theLegacyQueryKeyWorksAndUnknownParametersAreIgnored() async throws {
        try await withServer { server in
            let reply = try await server.post(
                "/track?ip=0&utm=x", trackBody(#"{"eventId":"q-1","profileId":"p1"}"#), auth: .query)
            #expect(reply.status == 201)
            #expect(try await server.store.person("p1")?.eventCount == 1)
        }
    }

    @Test func missingOrWrongKeysAre401AndStoreNothing() async throws {
        try await withServer { server in
            let body = trackBody(#"{"eventId":"x","profileId":"p1"}"#)
            let wrongSecret = "Basic " + Data("pub:nope".utf8).base64EncodedString()
            let wrongPrefix = "Basic " + Data("other:\(APITestServer.secret)".utf8).base64EncodedString()
            for auth: APITestServer.Auth in [
                .none, .custom(wrongSecret), .custom(wrongPrefix), .custom("Bearer abc"), .custom("Basic !!!"),
            ] {
                let reply = try await server.post("/track", body, auth: auth)
                #expect(reply.status == 401)
                #expect(reply.errorMessage?.contains("API key") == true)
            }
            let badQuery = try await server.post("/track?apiKey=pub.wrong", body, auth: .none)
            #expect(badQuery.status == 401)
            let noDot = try await server.post("/track?apiKey=pubs3cret-value", body, auth: .none)
            #expect(noDot.status == 401)
            #expect(try await server.store.person("p1") == nil)
        }
    }

    @Test func unknownOrgOrProjectIs404() async throws {
        try await withServer { server in
            let body = trackBody(#"{"eventId":"x","profileId":"p1"}"#)
            let port = server.port
            for path in [
                "http://127.0.0.1:\(port)/v1/other/projects/shop/track",
                "http://127.0.0.1:\(port)/v1/acme/projects/other/track",
                "http://127.0.0.1:\(port)/v1/acme/projects/other/optimization/choose-api",
            ] {
                let reply = try await server.post(path, body)
                #expect(reply.status == 404)
                #expect(reply.errorMessage?.hasPrefix("Unknown organization or project") == true)
            }
            #expect(try await server.store.person("p1") == nil)
        }
    }

    @Test(arguments: [
        ("{not json", "Malformed JSON"),
        ("", "Malformed JSON"),
        ("[1,2]", "must be a JSON object"),
        (#"{"events":[]}"#, "track is required"),
        (#"{"track":{"name":"x"}}"#, "track must be an array"),
        (#"{"track":["x"]}"#, "track[0] must be an object"),
        (#"{"track":[{"payload":[{"profileId":"p1"}]}]}"#, "track[0].name is required"),
        (#"{"track":[{"name":"x","payload":{"profileId":"p1"}}]}"#, "payload must be an array"),
        (#"{"track":[{"name":"x","payload":["p1"]}]}"#, "payload[0] must be an object"),
        (#"{"track":[{"name":"x","payload":[{"profileId":"p1","data":"total=5"}]}]}"#, "data must be an object"),
        (
            #"{"track":[{"name":"x","payload":[{"profileId":"p1","userAttributes":[1]}]}]}"#,
            "userAttributes must be an object"
        ),
        (#"{"track":[{"name":"x","payload":[{"profileId":true}]}]}"#, "profileId must be a string or a number"),
        (#"{"track":[{"name":"x","payload":[{"profileId":{"id":1}}]}]}"#, "profileId must be a string or a number"),
        (
            #"{"track":[{"name":"x","payload":[{"profileId":"p1","timestamp":"yesterday"}]}]}"#,
            "timestamp must be epoch milliseconds"
        ),
        (
            #"{"track":[{"name":"x","payload":[{"profileId":"p1","timestamp":1000}]}]}"#,
            "timestamp is before 2010-01-01"
        ),
        (
            #"{"track":[{"name":"x","payload":[{"data":{"total":1}}]}]}"#,
            "Either userId or profileId or accountId is required"
        ),
        (
            #"{"track":[{"name":"x","payload":[{"profileId":"","userId":null}]}]}"#,
            "Either userId or profileId or accountId is required"
        ),
    ])
    func badTrackBodiesAre400AndStoreNothing(body: String, message: String) async throws {
        try await withServer { server in
            // A good item next to the bad one: the request is all or nothing.
            let reply = try await server.post("/track", body)
            #expect(reply.status == 400)
            #expect(reply.errorMessage?.contains(message) == true, "got \(reply.body)")
            #expect(try await server.store.person("p1") == nil)
        }
    }

    @Test func oneBadItemRefusesTheWholeBatch() async throws {
        try await withServer { server in
            let reply = try await server.post(
                "/track", trackBody(#"{"eventId":"good","profileId":"p1"},{"eventId":"bad","data":{}}"#))
            #expect(reply.status == 400)
            #expect(reply.errorMessage == "Either userId or profileId or accountId is required")
            #expect(try await server.store.person("p1") == nil)
        }
    }

    @Test func bodiesOver5MBAre413() async throws {
        try await withServer { server in
            let filler = String(repeating: "x", count: 5 * 1024 * 1024)
            let reply = try await server.post(
                "/track", trackBody(#"{"eventId":"big","profileId":"p1","data":{"blob":"\#(filler)"}}"#))
            #expect(reply.status == 413)
            #expect(reply.errorMessage == "Request body is larger than 5 MB")
            #expect(try await server.store.person("p1") == nil)
            // Just under the limit is fine.
            let fits = String(repeating: "y", count: 4 * 1024 * 1024)
            let ok = try await server.post(
                "/track", trackBody(#"{"eventId":"fits","profileId":"p2","data":{"blob":"\#(fits)"}}"#))
            #expect(ok.status == 201)
        }
    }

    @Test func gzipBodiesAre400() async throws {
        try await withServer { server in
            let reply = try await server.post(
                "/track", trackBody(#"{"eventId":"g","profileId":"p1"}"#), headers: [("Content-Encoding", "gzip")])
            #expect(reply.status == 400)
            #expect(reply.errorMessage?.contains("gzip") == true)
        }
    }

    @Test func aThousandEventsInOneRequestAreAccepted() async throws {
        try await withServer { server in
            let items = (0..<1000).map {
                #"{"eventId":"k-\#($0)","profileId":"p\#($0 % 4)","timestamp":\#(1_780_000_000_000 + $0)}"#
            }
            let reply = try await server.post("/track", trackBody(items.joined(separator: ",")))
            #expect(reply.status == 201)
            var total = 0
            for profile in 0..<4 { total += try await server.store.person("p\(profile)")?.eventCount ?? 0 }
            #expect(total == 1000)
        }
    }

    @Test func idsMayBeStringsOrNumbersAndMissingOnesAreMinted() async throws {
        try await withServer { server in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let reply = try await server.post(
                "/sources/1841503112918048768/track",
                #"{"track":[{"name":"n","payload":[{"eventId":42,"profileId":1841503112918048769,"sessionId":7}]},{"name":"m","type":"made-up","payload":[{"userId":"only-user"}]}]}"#
            )
            #expect(reply.status == 201)
            let numeric = try #require(try await server.store.person("1841503112918048769"))
            #expect(numeric.recentEvents.first?.eventId == "42")
            #expect(numeric.recentEvents.first?.sessionId == "7")
            let minted = try #require(try await server.store.person("only-user")?.recentEvents.first)
            #expect(!minted.eventId.isEmpty)
            #expect(minted.timestamp >= before)
            #expect(minted.type == "made-up")
            // With only a userId, profileId = userId.
            #expect(minted.profileId == "only-user")
        }
    }

    @Test func timestampsAfter2040BecomeTheArrivalTime() async throws {
        try await withServer { server in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let reply = try await server.post(
                "/track", trackBody(#"{"eventId":"f","profileId":"p1","timestamp":4102444800000}"#))
            #expect(reply.status == 201)
            let stamp = try #require(try await server.store.person("p1")?.recentEvents.first?.timestamp)
            #expect(stamp >= before && stamp < before + 60_000)
        }
    }

    @Test func anEmptyTrackListIs201() async throws {
        try await withServer { server in
            let emptyTrack = try await server.post("/track", #"{"track":[]}"#).status
            #expect(emptyTrack == 201)
            let emptyPayload = try await server.post("/track", #"{"track":[{"name":"x","payload":[]}],"extra":1}"#)
                .status
            #expect(emptyPayload == 201)
        }
    }

    @Test func commerceLinesSharingAnEventIdAreEachKeptAndReplaysStayDeduplicated() async throws {
        try await withServer { server in
            let body =
                #"{"track":[{"name":"Product ordered","payload":[{"eventId":"order-1","timestamp":1780000000000,"profileId":"p1","data":{"productId":"a","quantity":1}},{"eventId":"order-1","timestamp":1780000000000,"profileId":"p1","data":{"productId":"b","quantity":2}},{"eventId":"order-1","timestamp":1780000000000,"profileId":"p1","data":{"productId":"c","quantity":3}}]}]}"#
            #expect(try await server.post("/track", body).status == 201)
            #expect(try await server.post("/track", body).status == 201)
            let person = try #require(try await server.store.person("p1"))
            #expect(person.eventCount == 3)
            #expect(Set(person.recentEvents.compactMap { $0.data["productId"]?.stringValue }) == ["a", "b", "c"])
        }
    }

    // MARK: consents

    @Test func consentIs200AndRejectStopsStorageUntilAccept() async throws {
        try await withServer { server in
            #expect(try await server.post("/track", trackBody(#"{"eventId":"c-1","profileId":"p1"}"#)).status == 201)
            let reject = try await server.post(
                "/consents/data",
                #"{"action":"reject","timestamp":1780000000,"category":"marketing","profileId":"p1","sourceId":1841503112918048768,"validUntil":"unlimited","source":"web","type":"consent","deviceInfo":"x"}"#
            )
            #expect(reject.status == 200)
            #expect(try await server.post("/track", trackBody(#"{"eventId":"c-2","profileId":"p1"}"#)).status == 201)
            var person = try #require(try await server.store.person("p1"))
            #expect(person.eventCount == 1)
            #expect(person.optedOut)
            #expect(person.consents.first?.timestamp == 1_780_000_000_000)
            let accept = try await server.post(
                "/consents/data",
                #"{"action":"accept","timestamp":1780000100,"category":"marketing","profileId":"p1","sourceId":"1","validUntil":31536000}"#
            )
            #expect(accept.status == 200)
            #expect(try await server.post("/track", trackBody(#"{"eventId":"c-3","profileId":"p1"}"#)).status == 201)
            person = try #require(try await server.store.person("p1"))
            #expect(person.eventCount == 2)
            #expect(person.consents.first?.validUntil == "31536000")
            // swift's number is a duration: a year from the consent.
            let yearLater: Int64 = 1_780_000_100_000 + 31_536_000_000
            #expect(person.consents.first?.expiresAt == yearLater)
        }
    }

    @Test func aRejectWhoseValidUntilHasPassedNoLongerStopsStorage() async throws {
        try await withServer { server in
            let reject = try await server.post(
                "/consents/data",
                #"{"action":"reject","timestamp":1780000000,"profileId":"p1","sourceId":"1","validUntil":"2026-06-01T00:00:00Z"}"#
            )
            #expect(reject.status == 200)
            #expect(try await server.post("/track", trackBody(#"{"eventId":"x-1","profileId":"p1"}"#)).status == 201)
            let person = try #require(try await server.store.person("p1"))
            #expect(!person.optedOut)
            #expect(person.eventCount == 1)
        }
    }

    @Test func consentTimestampsInMillisecondsBecomeTheArrivalTime() async throws {
        try await withServer { server in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let reply = try await server.post(
                "/consents/data", #"{"action":"accept","timestamp":1780000000000,"userId":"u1"}"#)
            #expect(reply.status == 200)
            let stamp = try #require(try await server.store.person("u1")?.consents.first?.timestamp)
            #expect(stamp >= before)
        }
    }

    @Test(arguments: [
        (#"{"timestamp":1}"#, "action is required"),
        (#"{"action":"grant","userId":"u1"}"#, "action must be accept or reject"),
        (#"{"action":"accept"}"#, "Either userId or profileId is required"),
        (#"{"action":"accept","profileId":"p1"}"#, "sourceId is required with a profileId"),
        (#"{"action":"accept","userId":"u1","validUntil":true}"#, "validUntil must be a string or a number"),
        (
            #"{"action":"reject","userId":"u1","validUntil":"next week"}"#,
            "validUntil must be \"unlimited\", an ISO 8601 date"
        ),
        (#"{"action":"reject","userId":"u1","validUntil":-5}"#, "validUntil must be \"unlimited\", an ISO 8601 date"),
        (#"{"action":"accept","userId":"u1","timestamp":"now"}"#, "timestamp must be epoch seconds"),
        (#"{"action":"accept","userId":"u1","category":5}"#, "category must be a string"),
        ("nope", "Malformed JSON"),
    ])
    func badConsentsAre400(body: String, message: String) async throws {
        try await withServer { server in
            let reply = try await server.post("/consents/data", body)
            #expect(reply.status == 400)
            #expect(
                reply.errorMessage == message || reply.errorMessage?.hasPrefix(message) == true, "got \(reply.body)")
            #expect(try await server.store.person("u1") == nil)
        }
    }

    // MARK: choose-api

    @Test(arguments: [
        (#"{"names":["checkout-cta"]}"#, "Identification is required"),
        (#"{"identification":"p1"}"#, "Identification is required"),
        (#"{"identification":{"sourceId":"1"}}"#, "Identification needs a userId, or a profileId and a sourceId"),
        (#"{"identification":{"userId":"u"},"names":["bad name"]}"#, #"must match "^[a-zA-Z0-9_-]$""#),
        (#"{"identification":{"userId":"u"},"groups":["a/b"]}"#, #"must match "^[a-zA-Z0-9_-]$""#),
        (#"{"identification":{"userId":"u"},"names":"checkout-cta"}"#, "names must be an array of strings"),
        (#"{"identification":{"userId":"u"},"names":[1]}"#, "names must be an array of strings"),
        (#"{"identification":{"userId":"u"},"device":"tv"}"#, "device must be one of all, desktop, mobile"),
        (#"{"identification":{"userId":["u"]}}"#, "identification.userId must be a string or a number"),
    ])
    func badChooseBodiesAre400(body: String, message: String) async throws {
        try await withServer { server in
            let reply = try await server.post("/optimization/choose-api", body)
            #expect(reply.status == 400)
            #expect(reply.errorMessage == message, "got \(reply.body)")
        }
    }

    @Test func chooseAnswersChoicesWithNameGroupAndBody() async throws {
        try await withServer { server in
            let reply = try await server.post(
                "/optimization/choose-api",
                #"{"identification":{"sourceId":1841503112918048768,"profileId":"p1"},"names":["checkout-cta"],"device":"DESKTOP","sessionId":"s1","optimizationType":"experiment","productId":"sku"}"#
            )
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "content-type")?.hasPrefix("application/json") == true)
            let choices = try #require(reply.json?["choices"]?.arrayValue)
            #expect(choices.count == 1)
            let choice = try #require(choices.first)
            #expect(choice["name"] == "checkout-cta")
            let arm = try #require(choice["group"]?.stringValue)
            #expect(["grey", "green"].contains(arm))
            #expect(choice["body"]?["color"]?.stringValue == arm)
            #expect(choice.objectValue?.keys.sorted() == ["body", "group", "name"])
            // The same person gets the same arm again, and the exposure was recorded.
            let again = try await server.post(
                "/optimization/choose-api",
                #"{"identification":{"sourceId":"1841503112918048768","profileId":"p1"},"names":["checkout-cta"]}"#)
            #expect(again.json?["choices"]?.arrayValue?.first?["group"]?.stringValue == arm)
            try await server.settle()
            let view = try await server.store.profileView(
                for: .init(sourceId: APITestServer.sourceId, profileId: "p1"), keys: [])
            #expect(view.assignments["checkout-cta"]?.arm == arm)
        }
    }

    @Test func namesAndGroupsFilterAndDraftsAreAbsent() async throws {
        try await withServer { server in
            func selectors(_ filter: String) async throws -> [String] {
                let reply = try await server.post(
                    "/optimization/choose-api", #"{"identification":{"userId":"filter-user"}\#(filter),"device":"all"}"#
                )
                #expect(reply.status == 200)
                return (reply.json?["choices"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.sorted()
            }
            let noNames = try await selectors(#","names":[]"#)
            #expect(noNames == [])
            let ctaGroup = try await selectors(#","groups":["cta"]"#)
            #expect(ctaGroup == ["checkout-cta"])
            // Android's singular key.
            let singularName = try await selectors(#","name":"checkout-cta""#)
            #expect(singularName == ["checkout-cta"])
            let draftOnly = try await selectors(#","names":["unfinished"]"#)
            #expect(draftOnly == [])
            let everything = try await selectors("")
            #expect(everything == ["checkout-cta", "welcome"])
        }
    }

    @Test func aOnceExperienceIsShownOnce() async throws {
        try await withServer { server in
            let body =
                #"{"identification":{"sourceId":"1841503112918048768","profileId":"once-p"},"names":["welcome"],"sessionId":"s1"}"#
            let first = try await server.post("/optimization/choose-api", body)
            #expect(first.json?["choices"]?.arrayValue?.first?["name"] == "welcome")
            #expect(first.json?["choices"]?.arrayValue?.first?["body"]?["title"] == "Hello friend")
            let second = try await server.post("/optimization/choose-api", body)
            #expect(second.json?["choices"]?.arrayValue == [])
        }
    }

    @Test func unknownPathsAndMethodsAreNotServed() async throws {
        try await withServer { server in
            let firstTrack = try await server.post("/optimization/choose-web", #"{}"#).status
            #expect(firstTrack == 404)
            let replayedTrack = try await server.post(
                "http://127.0.0.1:\(server.port)/v2/acme/projects/shop/track", #"{}"#
            ).status
            #expect(replayedTrack == 404)
        }
    }
}
