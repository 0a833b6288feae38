import Foundation
import Testing

@testable import VeneerCore

/// Loads the fixture configurations of `Fixtures/configs/`.
enum ConfigFixtures {
    static var directory: String {
        Bundle.module.url(forResource: "configs", withExtension: nil, subdirectory: "Fixtures")!.path
    }

    static let environment = ["VENEER_DEMO_SECRET": "demo.s3cret", "VENEER_FORWARD_KEY": "fwd.key"]

    static func load(_ name: String, environment: [String: String] = environment) throws(ConfigErrors) -> VeneerConfig {
        try ConfigLoader.load(path: directory + "/" + name, environment: environment)
    }

    /// Loads inline text as if it were a file in the fixture folder (so `file:site` and templates resolve).
    static func load(text: String, environment: [String: String] = environment) throws(ConfigErrors) -> VeneerConfig {
        try ConfigLoader.load(text: text, file: "proxy.conf", baseDirectory: directory, environment: environment)
    }

    /// The diagnostics of a configuration that must fail.
    static func diagnostics(_ name: String, environment: [String: String] = environment) -> [ConfigDiagnostic] {
        do {
            _ = try load(name, environment: environment)
            return []
        } catch {
            return error.diagnostics
        }
    }

    static func diagnostics(text: String, environment: [String: String] = environment) -> [ConfigDiagnostic] {
        do {
            _ = try load(text: text, environment: environment)
            return []
        } catch {
            return error.diagnostics
        }
    }

    /// The minimal tables every small fixture shares.
    static let preamble = """
        [origin]
        url = "http://127.0.0.1:3000"

        """
}
