import ArgumentParser

// PLACEHOLDER: the proxy helper replaces this file.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve")

    func run() async throws {
        throw ValidationError("veneer serve is not built yet")
    }
}
