import ArgumentParser

/// The `veneer` command line: serve, check, render, choose, profile.
@main
struct Veneer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "veneer",
        abstract: "An edge personalization proxy.",
        subcommands: [
            ServeCommand.self, CheckCommand.self, RenderCommand.self, ChooseCommand.self, ProfileCommand.self,
        ]
    )
}
