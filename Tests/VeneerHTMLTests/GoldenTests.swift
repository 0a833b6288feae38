import Foundation
import Testing
import VeneerCore

@testable import VeneerHTML

/// The golden suite: `Golden/<case>/` holds `input.html`, `changes.json`, optionally
/// `context.json`, `charset.txt` (a Content-Type charset) and `templates/`, and the expected
/// `expected.html` and `skipped.txt`. `VENEER_RECORD_GOLDEN=1` rewrites the expected files.
@Suite struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let recording = ProcessInfo.processInfo.environment["VENEER_RECORD_GOLDEN"] == "1"

    static var caseNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter {
            FileManager.default.fileExists(
                atPath: directory.appendingPathComponent($0).appendingPathComponent("input.html").path)
        }
        .sorted()
    }

    @Test func suiteHasAtLeastFortyCases() {
        #expect(Self.caseNames.count >= 40, "found \(Self.caseNames.count) golden cases")
    }

    /// One case's page, its changes rendered with its context and templates, and its Content-Type charset.
    static func load(_ name: String) throws -> (input: [UInt8], changes: [RenderedChange], charset: String?) {
        let folder = directory.appendingPathComponent(name)
        let input = try Array(Data(contentsOf: folder.appendingPathComponent("input.html")))
        let changes = try RenderRequest.changes(
            from: JSONValue(jsonData: Data(contentsOf: folder.appendingPathComponent("changes.json"))))
        let contextURL = folder.appendingPathComponent("context.json")
        let context =
            FileManager.default.fileExists(atPath: contextURL.path)
            ? RenderRequest.context(from: try JSONValue(jsonData: Data(contentsOf: contextURL))) : TemplateContext()
        let templates = try templates(in: folder.appendingPathComponent("templates"))
        let charsetURL = folder.appendingPathComponent("charset.txt")
        let charset = (try? String(contentsOf: charsetURL, encoding: .utf8))?.trimmingCharacters(
            in: .whitespacesAndNewlines)
        return (input, changes.map { $0.rendered(context, templates: templates) }, charset)
    }

    @Test(arguments: caseNames)
    func golden(_ name: String) throws {
        let folder = Self.directory.appendingPathComponent(name)
        let (input, rendered, charset) = try Self.load(name)

        let rewriter = PageRewriter()
        let result = rewriter.rewrite(input, contentTypeCharset: charset, changes: rendered)
        try FidelityCheck.verify(input: input, result: result)
        // A second sight of the same body comes from the cache and must give the same bytes.
        var diagnostics = PageRewriter.Diagnostics()
        let again = rewriter.rewrite(input, contentTypeCharset: charset, changes: rendered, diagnostics: &diagnostics)
        let unsupportedEncoding = result.skipped.contains { $0.reason.contains("encoding") }
        #expect(diagnostics.cacheHit || unsupportedEncoding)
        #expect(again.output == result.output)

        let skippedText = result.skipped.map { "\($0.selector): \($0.reason)\n" }.joined()
        let expectedURL = folder.appendingPathComponent("expected.html")
        let skippedURL = folder.appendingPathComponent("skipped.txt")
        if Self.recording {
            try Data(result.output).write(to: expectedURL)
            try Data(skippedText.utf8).write(to: skippedURL)
            return
        }
        let expected = try Array(Data(contentsOf: expectedURL))
        if result.output != expected {
            let diff = UnifiedDiff.diff(
                expected: String(decoding: expected, as: UTF8.self),
                actual: String(decoding: result.output, as: UTF8.self))
            Issue.record("golden case \(name) differs:\n\(diff)")
        }
        let expectedSkipped = (try? String(contentsOf: skippedURL, encoding: .utf8)) ?? ""
        #expect(skippedText == expectedSkipped, "skipped changes of \(name)")
    }

    static func templates(in folder: URL) throws -> [String: Template] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [:] }
        var templates: [String: Template] = [:]
        for name in names {
            let source = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            templates[name] = try Template(source: source, mode: .html)
        }
        return templates
    }
}

/// The mechanical fidelity check: the output is exactly the input with the reported edits
/// spliced in, and every edit starts and ends on a tag boundary of the input (a `<` that opens a
/// tag, the byte after a `>`, or the end), so every byte outside the changed elements is the input's.
enum FidelityCheck {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func verify(input: [UInt8], result: RewriteResult) throws {
        if !result.changed {
            guard result.output == input else {
                throw Failure(description: "unchanged result whose output differs from the input")
            }
            return
        }
        var rebuilt: [UInt8] = []
        var cursor = 0
        for edit in result.edits {
            guard edit.range.lowerBound >= cursor, edit.range.upperBound <= input.count else {
                throw Failure(description: "edits overlap or run past the input: \(edit.range)")
            }
            rebuilt += input[cursor..<edit.range.lowerBound]
            rebuilt += edit.replacement
            cursor = edit.range.upperBound
            for offset in [edit.range.lowerBound, edit.range.upperBound] where !isTagBoundary(input, offset) {
                throw Failure(
                    description:
                        "an edit boundary at byte \(offset) is not at a tag boundary: …\(context(input, offset))…")
            }
        }
        rebuilt += input[cursor...]
        guard rebuilt == result.output else {
            throw Failure(description: "the output is not the input with the reported edits")
        }
    }

    static func isTagBoundary(_ bytes: [UInt8], _ offset: Int) -> Bool {
        if offset == 0 || offset == bytes.count { return true }
        if bytes[offset - 1] == UInt8(ascii: ">") { return true }
        guard bytes[offset] == UInt8(ascii: "<"), offset + 1 < bytes.count else { return false }
        let next = bytes[offset + 1] | 0x20
        return (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) || bytes[offset + 1] == UInt8(ascii: "/")
    }

    static func context(_ bytes: [UInt8], _ offset: Int) -> String {
        String(decoding: bytes[max(0, offset - 20)..<min(bytes.count, offset + 20)], as: UTF8.self)
    }
}
