import ArgumentParser
import Foundation
import Logging
import VeneerCore
import VeneerServer

/// `veneer serve`: the personalizing reverse proxy, its API listener and the reporter.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy in front of the origin of proxy.conf, with the API and /-/ ops endpoints.")

    @Option(name: .long, help: "The configuration file.")
    var config = "proxy.conf"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "veneer")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let application: VeneerApplication
        do {
            application = try VeneerApplication(configPath: config, logger: logger)
        } catch {
            for diagnostic in error.diagnostics {
                FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
            }
            throw ExitCode(1)
        }
        try await application.run()
    }
}
