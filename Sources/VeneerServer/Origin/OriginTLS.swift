import NIOCore
import NIOSSL
import VeneerCore

/// TLS to an https origin: a client context with the system's trust roots plus `origin.tls_ca_file`, full
/// certificate verification, and the name sent as SNI and checked against the certificate. Built once per
/// configuration; each new origin connection gets its own handler from it.
///
/// ```swift
/// let tls = try OriginTLS(settings: config.origin, host: "shop.example")
/// try channel.pipeline.syncOperations.addHandler(try tls.makeHandler())
/// ```
struct OriginTLS: Sendable {
    let context: NIOSSLContext
    /// nil for an origin reached by IP address without `tls_server_name`: no SNI, and the certificate must
    /// name the IP address itself.
    let serverName: String?

    init(settings: OriginSettings, host: String) throws(OriginTargetError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = ["http/1.1"]
        if !settings.tlsCAFile.isEmpty {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(settings.tlsCAFile)
                guard !certificates.isEmpty else {
                    throw OriginTargetError(url: settings.url, message: "\(settings.tlsCAFile) holds no certificate")
                }
                configuration.additionalTrustRoots = [.certificates(certificates)]
            } catch let error as OriginTargetError {
                throw error
            } catch {
                throw OriginTargetError(
                    url: settings.url, message: "origin.tls_ca_file \(settings.tlsCAFile) cannot be read: \(error)")
            }
        }
        do {
            self.context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw OriginTargetError(url: settings.url, message: "TLS cannot be set up: \(error)")
        }
        let name = settings.tlsServerName.isEmpty ? host : settings.tlsServerName
        // SNI carries names, never addresses; for an address the certificate is checked against the peer's IP.
        self.serverName = (try? SocketAddress(ipAddress: name, port: 0)) == nil ? name : nil
    }

    func makeHandler() throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: serverName)
    }
}
