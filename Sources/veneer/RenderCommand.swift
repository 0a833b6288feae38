import ArgumentParser

// PLACEHOLDER: the html helper replaces this file.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render")

    func run() async throws {
        throw ValidationError("veneer render is not built yet")
    }
}
