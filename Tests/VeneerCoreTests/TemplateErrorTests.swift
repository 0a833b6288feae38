import Testing
import VeneerCore

struct TemplateErrorTests {
    struct ErrorCase: Sendable, CustomTestStringConvertible {
        let source: String
        let mode: Template.Mode
        let line: Int
        let column: Int
        let message: String

        init(_ source: String, _ line: Int, _ column: Int, _ message: String, mode: Template.Mode = .html) {
            self.source = source
            self.mode = mode
            self.line = line
            self.column = column
            self.message = message
        }

        var testDescription: String { "\(mode) \(source.debugDescription)" }
    }

    static let cases: [ErrorCase] = [
        // Unknown roots and fields.
        .init("Hi << user.name >>", 1, 7, #"unknown path root "user""#),
        .init("<< attributes.user.name >>", 1, 4, #"unknown path root "attributes""#),
        .init("<< attribute.first_name >>", 1, 14, #"unknown attribute scope "first_name""#),
        .init("<< attribute >>", 1, 4, #""attribute" needs a scope"#),
        .init("<< visitor >>", 1, 4, #""visitor" needs a field"#),
        .init("<< request >>", 1, 4, #""request" needs a field"#),
        .init("<< request.host >>", 1, 12, #"unknown request field "host""#),
        .init("<< request.query >>", 1, 12, "request.query needs a parameter name"),
        .init("<< request.path.first >>", 1, 17, #"request.path is text and has no field "first""#),
        // Empty and unterminated substitutions.
        .init("<< >>", 1, 1, "empty substitution"),
        .init("a<<>>", 1, 2, "empty substitution"),
        .init("<<", 1, 1, #"unterminated "<<""#),
        .init("x <<", 1, 3, #"unterminated "<<""#),
        .init("x << ", 1, 3, #"unterminated "<<""#),
        .init("Hi << attribute.user.name", 1, 4, #"unterminated "<<""#),
        .init("Hi << attribute.user.name | upper", 1, 4, #"unterminated "<<""#),
        .init("Hi << attribute.user.name |", 1, 4, #"unterminated "<<""#),
        .init("Hi << attribute.user.name | default:", 1, 4, #"unterminated "<<""#),
        .init("a\nb << attribute.user.name", 2, 3, #"unterminated "<<""#),
        .init("<< attribute.user.name >> and << attribute.user.name", 1, 31, #"unterminated "<<""#),
        .init("<<< attribute.user.name >>", 1, 3, #"expected a path such as attribute.user.first_name, found "<""#),
        // Paths.
        .init("<< attribute.user. >>", 1, 19, #"expected a name after ".", found " ""#),
        .init("<< attribute..user >>", 1, 14, #"expected a name after ".", found ".""#),
        .init("<< .x >>", 1, 4, #"expected a path such as attribute.user.first_name, found ".""#),
        .init("<< attribute.user.name upper >>", 1, 24, #"expected "|" or ">>", found "u""#),
        .init("<< attribute.user.name > >>", 1, 24, #"expected "|" or ">>", found ">""#),
        .init("<< attribute.user.na@me >>", 1, 21, #"expected "|" or ">>", found "@""#),
        .init("<< attribute.user.name }}", 1, 24, #"expected "|" or ">>", found "}""#),
        // Filters.
        .init(
            "<< attribute.user.name | shout >>", 1, 26,
            #"unknown filter "shout"; filters are default, upper, lower, escape, raw, url, json"#),
        .init("<< attribute.user.name | Upper >>", 1, 26, #"unknown filter "Upper""#),
        .init(#"<< attribute.user.name | upper: "x" >>"#, 1, 31, #"filter "upper" takes no argument"#),
        .init("<< attribute.user.name | raw : >>", 1, 30, #"filter "raw" takes no argument"#),
        .init("<< attribute.user.name | json: >>", 1, 30, #"filter "json" takes no argument"#),
        .init("<< attribute.user.name | default >>", 1, 26, #"filter "default" needs a text argument"#),
        .init("<< attribute.user.name | default | upper >>", 1, 26, #"filter "default" needs a text argument"#),
        .init(
            "<< attribute.user.name | default: >>", 1, 35, #"filter "default" needs a quoted text argument, found ">""#),
        .init("<< attribute.user.name | default: friend >>", 1, 35, #"needs a quoted text argument, found "f""#),
        .init("<< attribute.user.name | default: 'friend' >>", 1, 35, #"needs a quoted text argument, found "'""#),
        .init("<< attribute.user.name | >>", 1, 26, #"expected a filter name after "|", found ">""#),
        .init("<< attribute.user.name || upper >>", 1, 25, #"expected a filter name after "|", found "|""#),
        .init("<< attribute.user.name | \"x\" >>", 1, 26, #"expected a filter name after "|", found """"#),
        // String literals.
        .init(#"<< attribute.user.name | default: "friend >>"#, 1, 35, "unterminated text: no closing quote"),
        .init(#"<< attribute.user.name | default: "friend\"#, 1, 35, "unterminated text: no closing quote"),
        .init(#"<< attribute.user.name | default: "a\nb" >>"#, 1, 37, #"unknown escape "\n" in text"#),
        .init(#"<< attribute.user.name | default: "a\'b" >>"#, 1, 37, #"unknown escape "\'" in text"#),
        .init("<< attribute.user.name | default: \"one\ntwo", 1, 35, "unterminated text"),
        // Multi-line sources: line and column point inside the right line.
        .init(
            "<div>\n  <p>Hello</p>\n  <span><< attribute.user.name | upcase >></span>\n</div>", 3, 34,
            #"unknown filter "upcase""#),
        .init("<<\n  attribute.user.name\n  | nope\n>>", 3, 5, #"unknown filter "nope""#),
        .init("line one\r\nb << x >>", 2, 6, #"unknown path root "x""#),
        .init("\n\n\n<< visitor.device >>\n\t<< nope >>", 5, 5, #"unknown path root "nope""#),
        .init("<< attribute.user.name\n | default:\n   \"open", 3, 4, "unterminated text"),
        // Columns count characters, not bytes.
        .init("héllo wörld 👋 << nope >>", 1, 18, #"unknown path root "nope""#),
        .init("日本語\n🇯🇵🇯🇵 << attribute.user.x | ✓ >>", 2, 26, #"expected a filter name after "|", found "✓""#),
        // Payload mode: {{ }} of a known root is a substitution with the same rules.
        .init("{{ attribute.user.name | upper }", 1, 32, #"expected "|" or "}}", found "}""#, mode: .payload),
        .init("{{ attribute.user.name >>", 1, 24, #"expected "|" or "}}", found ">""#, mode: .payload),
        .init("{{ attribute.user.name", 1, 1, #"unterminated "{{""#, mode: .payload),
        .init("Hey {{ attribute.first_name }}", 1, 18, #"unknown attribute scope "first_name""#, mode: .payload),
        .init("{{ attribute }}", 1, 4, #""attribute" needs a scope"#, mode: .payload),
        .init("{{ payload.x | bold }}", 1, 16, #"unknown filter "bold""#, mode: .payload),
        .init("<< nope >>", 1, 4, #"unknown path root "nope""#, mode: .payload),
        .init("ok {{ cart }} then << bad >>", 1, 23, #"unknown path root "bad""#, mode: .payload),
    ]

    @Test(arguments: cases)
    func compileErrorsCarryLineAndColumn(_ row: ErrorCase) throws {
        #expect(throws: TemplateError.self) { try Template(source: row.source, mode: row.mode) }
        do {
            _ = try Template(source: row.source, mode: row.mode)
        } catch {
            #expect(error.line == row.line)
            #expect(error.column == row.column)
            #expect(error.message.contains(row.message), "\(error.message)")
            #expect(error.keyPath == "")
        }
    }

    @Test func descriptionNamesThePosition() {
        #expect(TemplateError(line: 2, column: 5, message: "oops").description == "2:5: oops")
        #expect(
            TemplateError(line: 1, column: 3, message: "oops", keyPath: "changes[0].html").description
                == "changes[0].html: 1:3: oops")
        do {
            _ = try Template(source: "Hi << user.name >>")
            Issue.record("expected a compile error")
        } catch {
            #expect(error.description.hasPrefix(#"1:7: unknown path root "user""#), "\(error)")
        }
    }
}
