import ArgumentParser
import Foundation
import VeneerCore
import VeneerHTML

/// `veneer render`: apply a changes file to a page and print the result; what could not be
/// applied goes to standard error with the reason.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Apply changes to an HTML page and print it.",
        discussion: """
            --changes holds a JSON array of change objects, e.g.
              [{"selector": "#hero", "action": "inner", "html": "<b>Hi << attribute.user.first_name >></b>"}]
            --context holds {"attributes": {"user": {…}, "account": {…}}, "payload": {…}, \
            "request": {"path": "/", "query": {…}}, "visitor": {…}}.
            The page goes to standard output byte for byte; skipped changes and a summary go to standard error.
            """
    )

    @Option(help: "The HTML page to change.") var html: String
    @Option(help: "A JSON file with the array of changes.") var changes: String
    @Option(help: "A JSON file with the attributes, payload, request and visitor for templates.") var context: String?
    @Option(help: "The folder that template files named by changes are read from.") var templates = "templates"
    @Option(help: "The charset of the page's Content-Type header, if it had one.") var charset: String?

    func run() throws {
        let page = try Self.read(html, what: "--html")
        let changeList: [PageChange]
        do {
            changeList = try RenderRequest.changes(
                from: JSONValue(jsonData: Data(Self.read(changes, what: "--changes"))))
        } catch let error as PageChangeError {
            throw Self.failure("\(changes): change \(error.key): \(error.message)")
        } catch {
            throw Self.failure("\(changes): not valid JSON: \(error)")
        }
        var templateContext = TemplateContext()
        if let context {
            do {
                templateContext = RenderRequest.context(
                    from: try JSONValue(jsonData: Data(Self.read(context, what: "--context"))))
            } catch let error as ExitCode {
                throw error
            } catch {
                throw Self.failure("\(context): not valid JSON: \(error)")
            }
        }
        var compiled: [String: Template] = [:]
        for change in changeList {
            guard case .template(let name) = change.content, compiled[name] == nil else { continue }
            let path = URL(fileURLWithPath: templates).appendingPathComponent(name).path
            // A missing template is reported by the rewriter as a skipped change, like the proxy does.
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            do {
                compiled[name] = try Template(source: String(decoding: data, as: UTF8.self), mode: .html)
            } catch {
                throw Self.failure("\(path):\(error.line):\(error.column): \(error.message)")
            }
        }
        let rendered = changeList.map { $0.rendered(templateContext, templates: compiled) }
        let result = PageRewriter(cacheCapacity: 0).rewrite(page, contentTypeCharset: charset, changes: rendered)
        FileHandle.standardOutput.write(Data(result.output))
        var report = ""
        for skipped in result.skipped { report += "skipped \(skipped.selector): \(skipped.reason)\n" }
        report +=
            "applied \(result.applied) of \(changeList.count) changes\(result.changed ? "" : "; the page is unchanged")\n"
        FileHandle.standardError.write(Data(report.utf8))
    }

    private static func read(_ path: String, what: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("\(what): cannot read \(path)")
        }
        return Array(data)
    }

    private static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("veneer render: \(message)\n".utf8))
        return ExitCode(1)
    }
}
