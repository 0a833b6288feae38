import Foundation
import NIOSSL
import Testing
import VeneerTestSupport

@testable import VeneerServer

/// Issue 5: `url = "https://…"` fronts a real TLS origin. The origin's certificate is made for this run by
/// `openssl` (self-signed, for 127.0.0.1 and localhost) and trusted through `origin.tls_ca_file`.
@Suite("Proxy: https origin", .serialized, .timeLimit(.minutes(3)))
struct ProxyTLSOriginTests {
    /// A fresh self-signed certificate and key, and the server context that presents them.
    struct Certificate {
        let folder: String
        var certificatePath: String { folder + "/origin-cert.pem" }
        var keyPath: String { folder + "/origin-key.pem" }
        var pem: String { (try? String(contentsOfFile: certificatePath, encoding: .utf8)) ?? "" }

        static func make(names: String = "IP:127.0.0.1,DNS:localhost") async throws -> Certificate {
            let folder = TestScratch.root.appendingPathComponent(
                "veneer-tls-\(UUID().uuidString)"
            ).path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let certificate = Certificate(folder: folder)
            try await RestartablePostgres.runDetached(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=veneer test origin", "-addext", "subjectAltName=\(names)",
                    "-keyout", certificate.keyPath, "-out", certificate.certificatePath,
                ])
            return certificate
        }

        func serverContext() throws -> NIOSSLContext {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
            return try NIOSSLContext(configuration: configuration)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    static func pages() -> [String: TestOriginServer.Page] {
        [
            "/shop/plain": .init(body: ProxyPersonalizationTests.page),
            "/other": .init(body: "plain text", contentType: "text/plain"),
        ]
    }

    @Test("a trusted https origin: pages are personalized, others pass through, connections are reused")
    func trustedOrigin() async throws {
        let certificate = try await Certificate.make()
        defer { certificate.remove() }
        try await ProxyHarness.with(
            configText: ProxyPersonalizationTests.config, pages: Self.pages(),
            files: ["origin-ca.pem": certificate.pem],
            originTLS: try certificate.serverContext(), originSettings: #"tls_ca_file = "origin-ca.pem""#
        ) { harness in
            #expect(harness.origin.url.hasPrefix("https://127.0.0.1:"))
            let page = try await harness.get("/shop/plain")
            #expect(page.status == 200)
            #expect(page.body.contains("<h1>Hi friend</h1>"))
            let other = try await harness.get("/other")
            #expect(other.status == 200)
            #expect(other.body == "plain text")
            let again = try await harness.get("/other")
            #expect(again.body == "plain text")
            #expect(harness.origin.requests.count == 3)
            #expect(
                harness.metricsText.contains("veneer_origin_connections_total{kind=\"reused\"}"),
                "kept-alive TLS connections are reused")
            #expect(!harness.metricsText.contains("veneer_origin_errors_total"))
        }
    }

    @Test("an origin whose certificate is not trusted: 502, counted as a TLS failure, never the page")
    func untrustedOrigin() async throws {
        let certificate = try await Certificate.make()
        defer { certificate.remove() }
        try await ProxyHarness.with(
            configText: ProxyPersonalizationTests.config, pages: Self.pages(),
            originTLS: try certificate.serverContext()
        ) { harness in
            let response = try await harness.get("/other")
            #expect(response.status == 502)
            #expect(!response.body.contains("plain text"))
            #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"tls\"} 1"))
            #expect(harness.origin.requests.isEmpty, "no request reaches an origin that failed verification")
        }
    }

    @Test("the certificate must name the host: 127.0.0.1 or a tls_server_name it does not carry is refused")
    func serverName() async throws {
        // A certificate for localhost only (no IP address), reached at 127.0.0.1.
        let certificate = try await Certificate.make(names: "DNS:localhost")
        defer { certificate.remove() }
        for (name, expected) in [("", 502), ("shop.example", 502), ("localhost", 200)] {
            try await ProxyHarness.with(
                configText: ProxyPersonalizationTests.config, pages: Self.pages(),
                files: ["origin-ca.pem": certificate.pem],
                originTLS: try certificate.serverContext(),
                originSettings: """
                    tls_ca_file = "origin-ca.pem"
                    tls_server_name = "\(name)"
                    """
            ) { harness in
                let response = try await harness.get("/other")
                #expect(response.status == expected, "tls_server_name \(name)")
                if expected == 502 {
                    #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"tls\"} 1"))
                }
            }
        }
    }

    @Test("a plain-http server behind an https URL: 502 as a TLS failure, not a hang")
    func plainServerBehindHTTPS() async throws {
        let plain = try await TestOriginServer.start(pages: Self.pages())
        do {
            try await ProxyHarness.with(
                configText: ProxyPersonalizationTests.config, originURL: "https://127.0.0.1:\(plain.port)",
                pages: Self.pages()
            ) { harness in
                let response = try await harness.get("/other")
                #expect(response.status == 502)
                #expect(harness.metricsText.contains("veneer_origin_errors_total{cause=\"tls\"} 1"))
            }
        } catch {
            await plain.stop()
            throw error
        }
        await plain.stop()
    }
}
