import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

@testable import VeneerServer

#if canImport(Glibc)
import Glibc
#endif

/// Issue 5, point 8: `veneer serve` as a process — ops endpoints, reload on file change and on SIGHUP, an
/// invalid file refused, SIGTERM drain — in front of a real origin.
@Suite("Proxy operations", .serialized, .timeLimit(.minutes(3)))
struct ProxyOperationsTests {
    /// The pages here are counted in metrics: a decision budget a busy machine cannot miss keeps each one
    /// personalized rather than failed open (the budget has tests of its own).
    static func config(origin: String, headline: String) -> String {
        """
        [origin]
        url = "\(origin)"
        timeout = "5s"

        [decision]
        budget = "5s"

        [[route]]
        path = "/shop"

        [[personalization]]
        name = "Hero"
        selector = "hero"
        control = 0
        metrics = { primary = "Purchase" }

          [[personalization.experience]]
          name = "Everyone"
          audience = "everyone"
          payload = { changes = [ { selector = "h1", action = "text", text = "\(headline)" } ] }
        """
    }

    @Test("ops endpoints, reload on file change and on SIGHUP, an invalid file refused, SIGTERM drains")
    func servesReloadsAndDrains() async throws {
        let origin = try await TestOriginServer.start(pages: [
            "/shop/page": .init(body: "<!DOCTYPE html><html><body><h1>Original</h1></body></html>")
        ])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let proxy: VeneerProcess
        do {
            proxy = try await VeneerProcess.start(
                body: { _ in Self.config(origin: origin.url, headline: "First") }, client: client)
        } catch {
            try? await client.shutdown()
            await origin.stop()
            throw error
        }
        do {
            try await exercise(proxy: proxy, origin: origin, client: client)
        } catch {
            proxy.stop()
            try? await client.shutdown()
            await origin.stop()
            throw error
        }
        proxy.stop()
        try? await client.shutdown()
        await origin.stop()
    }

    private func exercise(proxy: VeneerProcess, origin: TestOriginServer, client: HTTPClient) async throws {
        func get(_ url: String) async throws -> (Int, String) { try await proxy.get(url, client: client) }
        func page() async throws -> String { try await get(proxy.proxyURL + "/shop/page").1 }
        func waitForPage(containing text: String, seconds: Double) async throws -> Bool {
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while ContinuousClock.now < deadline {
                if try await page().contains(text) { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        let health = try await get(proxy.apiURL + "/-/health")
        #expect(health.0 == 200)
        #expect(health.1 == "ok\n")
        #expect(try await get(proxy.apiURL + "/-/ready").0 == 200)
        let first = try await page()
        #expect(first.contains("<h1>First</h1>"))
        let metrics = try await get(proxy.apiURL + "/-/metrics").1
        #expect(metrics.contains("veneer_requests_total{route=\"/shop\",status=\"2xx\"} 1"))
        #expect(metrics.contains("veneer_request_duration_seconds_bucket{route=\"/shop\""))
        #expect(metrics.contains("veneer_decisions_total{optimization=\"hero\",arm=\"Everyone\",outcome=\"served\"} 1"))
        #expect(metrics.contains("veneer_rewrite_duration_seconds_count{changed=\"true\"} 1"), "\(metrics)")
        #expect(metrics.contains("veneer_rewrite_duration_seconds_count{changed=\"false\"} 0"))
        #expect(metrics.contains("veneer_page_changes_total{result=\"applied\"} 1"))
        #expect(metrics.contains("veneer_page_changes_total{result=\"skipped\"} 0"))
        // A returning visitor's view comes from the store once, then from the cache; both are timed.
        let returning = [("Cookie", "vnr_pid=returning0000000000000000000001; vnr_sid=session00000000000000000000001")]
        for _ in 0..<2 {
            #expect(try await proxy.get(proxy.proxyURL + "/shop/page", headers: returning, client: client).0 == 200)
        }
        let lookups = try await get(proxy.apiURL + "/-/metrics").1
        #expect(lookups.contains("veneer_profile_lookup_duration_seconds_count{source=\"store\"} 1"), "\(lookups)")
        #expect(lookups.contains("veneer_profile_lookup_duration_seconds_count{source=\"cache\"} 1"))
        // One parse of the page, then its cached parse twice.
        #expect(lookups.contains("veneer_page_parse_cache_misses_total 1"), "\(lookups)")
        #expect(lookups.contains("veneer_page_parse_cache_hits_total 2"))
        #expect(lookups.contains("veneer_page_parses_derived_total 0"))
        // Three pages: each a page view and an exposure; the returning visitor's two lookups were answered.
        #expect(lookups.contains("veneer_proxy_events_total{event=\"View Page\"} 3"), "\(lookups)")
        #expect(lookups.contains("veneer_proxy_events_total{event=\"Experience exposure\"} 3"))
        #expect(lookups.contains("veneer_profile_lookups_total{result=\"ok\"} 2"))
        #expect(lookups.contains("veneer_rewrite_duration_seconds_count{changed=\"true\"} 3"))
        #expect(lookups.contains("veneer_page_changes_total{result=\"applied\"} 3"))

        // A file change is picked up (polled once a second).
        try proxy.rewriteConfig(Self.config(origin: origin.url, headline: "Second"))
        #expect(try await waitForPage(containing: "<h1>Second</h1>", seconds: 5))

        // An invalid file is refused; the running configuration stays.
        try proxy.rewriteConfig("[origin]\nurl = 42\n")
        try await Task.sleep(for: .milliseconds(2500))
        #expect(try await page().contains("<h1>Second</h1>"))
        #expect(
            try await get(proxy.apiURL + "/-/metrics").1.contains("veneer_config_reloads_total{result=\"refused\"} 1"))

        // SIGHUP reloads at once.
        try proxy.rewriteConfig(Self.config(origin: origin.url, headline: "Third"))
        proxy.signal(SIGHUP)
        #expect(try await waitForPage(containing: "<h1>Third</h1>", seconds: 3))

        // SIGTERM while a slow request is in flight: it completes, then the process exits cleanly.
        let slow = Task { try await proxy.get(proxy.proxyURL + "/slow/1500", client: client) }
        try await Task.sleep(for: .milliseconds(300))
        proxy.signal(SIGTERM)
        let (status, body) = try await slow.value
        #expect(status == 200)
        #expect(body == "slow")
        #expect(await proxy.waitForExit(seconds: 10))
        #expect(proxy.terminationStatus == 0)
        let log = proxy.log
        #expect(log.contains("configuration refused"))
        #expect(log.contains("reason=SIGHUP"))
        #expect(log.contains("draining the proxy"))
    }
}
