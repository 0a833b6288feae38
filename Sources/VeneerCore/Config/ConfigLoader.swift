public import Foundation
import TOMLKit

/// Reads proxy.conf into a validated `VeneerConfig`, reporting every problem at once.
///
/// ```swift
/// do {
///     let config = try ConfigLoader.load(path: "proxy.conf")
///     print(config.optimizations.count)
/// } catch {
///     error.diagnostics.forEach { print($0) }  // proxy.conf:42: personalization[2]…: …
/// }
/// ```
public enum ConfigLoader {
    /// Reads the file at `path`; relative paths inside it resolve against its folder.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigErrors) -> VeneerConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigErrors(diagnostics: [
                ConfigDiagnostic(
                    file: path, keyPath: "", message: "cannot read the file: it does not exist or is not readable")
            ])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors(diagnostics: [
                ConfigDiagnostic(file: path, keyPath: "", message: "the file is not UTF-8 text")
            ])
        }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let directory = (ConfigBuilder.normalize(absolute) as NSString).deletingLastPathComponent
        return try load(text: text, file: path, baseDirectory: directory, environment: environment)
    }

    /// Reads proxy.conf from `text`; `file` names it in diagnostics and `baseDirectory` is where relative
    /// paths (origin folder, templates, payload files, data) resolve.
    public static func load(
        text: String, file: String, baseDirectory: String, environment: [String: String]
    ) throws(ConfigErrors) -> VeneerConfig {
        let sourceMap = ConfigSourceMap(text: text)
        if let malformed = sourceMap.malformedSyntax {
            throw ConfigErrors(diagnostics: [
                ConfigDiagnostic(
                    file: file, line: malformed.line, column: malformed.column, keyPath: "",
                    message: "TOML syntax error: \(malformed.message)"
                )
            ])
        }
        let document: ConfigNode
        do {
            document = ConfigNode(try TOMLTable(string: text))
        } catch let error as TOMLParseError {
            throw ConfigErrors(diagnostics: [
                ConfigDiagnostic(
                    file: file, line: error.source.begin.line, column: error.source.begin.column, keyPath: "",
                    message: "TOML syntax error: \(error.description)"
                )
            ])
        } catch {
            throw ConfigErrors(diagnostics: [
                ConfigDiagnostic(file: file, keyPath: "", message: "TOML syntax error: \(error)")
            ])
        }
        let base = ConfigBuilder.normalize(
            baseDirectory.hasPrefix("/")
                ? baseDirectory : FileManager.default.currentDirectoryPath + "/" + baseDirectory
        )
        var builder = ConfigBuilder(
            file: file, baseDirectory: base, environment: environment, sourceMap: sourceMap
        )
        let config = builder.build(document.tableValue ?? [:])
        guard builder.diagnostics.isEmpty else {
            throw ConfigErrors(diagnostics: sorted(builder.diagnostics, configFile: file))
        }
        return config
    }

    /// proxy.conf's problems in line order, then those of other files.
    static func sorted(_ diagnostics: [ConfigDiagnostic], configFile: String) -> [ConfigDiagnostic] {
        diagnostics.enumerated().sorted { left, right in
            let leftRank = (left.element.file == configFile ? 0 : 1, left.element.line ?? Int.max, left.offset)
            let rightRank = (right.element.file == configFile ? 0 : 1, right.element.line ?? Int.max, right.offset)
            return leftRank < rightRank
        }.map(\.element)
    }
}

extension ConfigBuilder {
    mutating func build(_ document: [String: ConfigNode]) -> VeneerConfig {
        checkKeys(document, at: .root, allowed: Self.topLevelKeys)
        var config = VeneerConfig(file: file)
        config.project = readProject(document["project"])
        timeZone = config.project.timeZone
        let server = readServer(document["server"])
        config.server = server.settings
        templateDirectory = server.templates
        config.templateDirectory = server.templates
        if document["server"]?.tableValue?["templates"] != nil, !Self.isDirectory(server.templates) {
            error(
                ConfigPath.root.appending("server").appending("templates"),
                "templates folder \(displayPath(server.templates)) does not exist")
        }
        config.origin = readOrigin(document["origin"])
        config.visitor = readVisitor(document["visitor"])
        config.decision = readDecision(document["decision"])
        config.store = readStore(document["store"])
        config.events = readEvents(document["events"])
        config.redirects = readRedirects(document["redirects"])
        config.apiKeys = readAPIKeys(document["api_key"])
        config.routes = readRoutes(document["route"])
        config.segments = readSegments(document["segment"])
        var optimizations = readOptimizations(document["personalization"], kind: .personalization)
        optimizations += readOptimizations(document["experiment"], kind: .experiment)
        checkSegmentReferences(declared: Self.declaredSegmentNames(document["segment"]))
        checkSelectors(optimizations)
        config.optimizations = optimizations.map(\.0)
        checkRoutes(document["route"], optimizations: config.optimizations)
        config.templates = templates.compactMapValues { $0 }
        return config
    }

    /// Segment names as written, including those whose audience failed, so references to them are not
    /// reported a second time.
    static func declaredSegmentNames(_ node: ConfigNode?) -> [String] {
        guard case .array(let elements)? = node else { return [] }
        return elements.compactMap { $0.tableValue?["name"]?.stringValue }.filter { !$0.isEmpty }
    }
}
