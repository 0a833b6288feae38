import ArgumentParser

// PLACEHOLDER: the store helper replaces this file.
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profile")

    func run() async throws {
        throw ValidationError("veneer profile is not built yet")
    }
}
