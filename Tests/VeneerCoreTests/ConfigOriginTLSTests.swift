import Foundation
import Testing

@testable import VeneerCore

/// `[origin] tls_ca_file` and `tls_server_name`: what an https origin may set, and what `veneer check` says
/// about each mistake (key path and line).
@Suite("Config: https origin settings")
struct ConfigOriginTLSTests {
    static func text(url: String, origin: String) -> String {
        """
        [origin]
        url = "\(url)"
        \(origin)
        """
    }

    @Test func anHTTPSOriginTakesACertificateFileAndAServerName() throws {
        let config = try ConfigFixtures.load(
            text: Self.text(
                url: "https://10.0.0.5:8443",
                origin: "tls_ca_file = \"certs/origin-ca.pem\"\ntls_server_name = \"shop.example\""))
        #expect(config.origin.tlsCAFile == ConfigFixtures.directory + "/certs/origin-ca.pem")
        #expect(config.origin.tlsServerName == "shop.example")
        let plain = try ConfigFixtures.load(text: Self.text(url: "https://shop.example", origin: ""))
        #expect(plain.origin.tlsCAFile.isEmpty)
        #expect(plain.origin.tlsServerName.isEmpty)
    }

    @Test(arguments: [
        ("https://shop.example", "tls_ca_file = \"certs/missing.pem\"", "origin.tls_ca_file", "does not exist"),
        ("https://shop.example", "tls_ca_file = \"full.conf\"", "origin.tls_ca_file", "holds no PEM certificate"),
        (
            "http://127.0.0.1:3000", "tls_ca_file = \"certs/origin-ca.pem\"", "origin.tls_ca_file",
            "only an https origin uses TLS settings"
        ),
        (
            "http://127.0.0.1:3000", "tls_server_name = \"shop.example\"", "origin.tls_server_name",
            "only an https origin uses TLS settings"
        ),
        (
            "https://shop.example", "tls_server_name = \"shop.example/x\"", "origin.tls_server_name",
            "is not a host name"
        ),
        ("https://shop.example", "tls_verify = false", "origin.tls_verify", "unknown key"),
    ])
    func mistakes(url: String, origin: String, keyPath: String, message: String) throws {
        let diagnostics = ConfigFixtures.diagnostics(text: Self.text(url: url, origin: origin))
        let diagnostic = try #require(diagnostics.first { $0.keyPath == keyPath }, "\(diagnostics)")
        #expect(diagnostic.message.contains(message), "\(diagnostic)")
        #expect(diagnostic.line == 3, "\(diagnostic)")
        #expect(diagnostic.file == "proxy.conf")
    }
}
