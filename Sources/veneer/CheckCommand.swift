import ArgumentParser
import Foundation
import VeneerCore

/// `veneer check [--config proxy.conf]`: every problem of the file with its line and key path, or a summary.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate proxy.conf: print every problem (file:line: key path: message), or a summary when it is valid."
    )

    @Option(name: .long, help: "The configuration file.")
    var config = "proxy.conf"

    func run() throws {
        do {
            let loaded = try ConfigLoader.load(path: config)
            print("\(config): OK — \(loaded.summary)")
        } catch {
            for diagnostic in error.diagnostics {
                printToStandardError(diagnostic.description)
            }
            let count = error.diagnostics.count
            printToStandardError("\(config): \(count) problem\(count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }
}

private func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
