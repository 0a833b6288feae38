import Testing
import VeneerCore

struct TemplateRenderingTests {
    static let paths: [RenderCase] = [
        .init("<< attribute.user.first_name >>", "Ada"),
        .init("<<attribute.user.first_name>>", "Ada"),
        .init("<<\n\t attribute.user.first_name \r\n>>", "Ada"),
        .init("<< attribute.user.address.city >>", "London"),
        .init("<< attribute.user.age >>", "36"),
        .init("<< attribute.user.score >>", "3.5"),
        .init("<< attribute.user.vip >>/<< attribute.user.off >>", "true/false"),
        .init("<< attribute.user.tags >>", "[&quot;alpha&quot;,&quot;beta&quot;]"),
        .init("<< attribute.user.tags >>", #"["alpha","beta"]"#, mode: .payload),
        .init("<< attribute.user.tags.1 >>", "beta"),
        .init("<< attribute.user.名前 >>", "花子"),
        .init("<< attribute.account.plan >>", "pro"),
        .init("<< attribute.account.company.name >>", "Acme &amp; Co"),
        .init("<< attribute.account.seats >>", "12"),
        .init("<< attribute.account | json | raw >>", #"{"company":{"name":"Acme & Co"},"plan":"pro","seats":12}"#),
        .init("<< payload.discount >>%", "30%"),
        .init("<< payload.items.1.name >>", "Cake"),
        .init("<< payload.nested.deep.er >>", "x"),
        .init("<< payload.items.0 >>", #"{"name":"Tea"}"#, mode: .payload),
        .init("<< visitor.device >>", "mobile"),
        .init("<< visitor.profile_id >>", "p-1"),
        .init("<< visitor.session_id >>", "s-9"),
        .init("<< visitor.new >>", "false"),
        .init("<< visitor.returning >>", "true"),
        .init("<< request.path >>", "/pricing"),
        .init("<< request.url >>", "https://shop.example/pricing?utm_source=mail&amp;q=a+b"),
        .init("<< request.url >>", "https://shop.example/pricing?utm_source=mail&q=a+b", mode: .payload),
        .init("<< request.query.utm_source >>", "mail"),
        .init("<< request.query.utm.medium >>", "dotted"),
        .init("<< request.referrer >>", "https://search.example/?q=&lt;x&gt;"),
    ]

    static let missing: [RenderCase] = [
        .init("[<< attribute.user.nope >>]", "[]"),
        .init("[<< attribute.user.nothing >>]", "[]"),
        .init("[<< attribute.user.first_name.length >>]", "[]"),
        .init("[<< attribute.user.tags.2 >>]", "[]"),
        .init("[<< attribute.user.tags.x >>]", "[]"),
        .init("[<< attribute.account.company.name.first >>]", "[]"),
        .init("[<< payload.items.99999999999999999999 >>]", "[]"),
        .init("[<< visitor.unknown_field >>]", "[]"),
        .init("[<< request.query.absent >>]", "[]"),
        .init("[<< attribute.user.empty >>]", "[]"),
    ]

    static let filters: [RenderCase] = [
        // default: missing, null and empty string take it; present values, 0 and false do not.
        .init(#"<< attribute.user.nope | default: "friend" >>"#, "friend"),
        .init(#"<< attribute.user.nothing | default: "friend" >>"#, "friend"),
        .init(#"<< attribute.user.empty | default: "friend" >>"#, "friend"),
        .init(#"<< attribute.user.first_name | default: "friend" >>"#, "Ada"),
        .init(#"<< attribute.user.zero | default: "none" >>"#, "0"),
        .init(#"<< attribute.user.off | default: "none" >>"#, "false"),
        .init(#"<< attribute.user.nope | default: "" >>"#, ""),
        .init(#"<< attribute.user.nope|default:"x">>"#, "x"),
        .init(#"<< attribute.user.nope | default: "say \"hi\" \\ bye" >>"#, #"say &quot;hi&quot; \ bye"#),
        .init(#"<< attribute.user.nope | default: "say \"hi\" \\ bye" | raw >>"#, #"say "hi" \ bye"#),
        .init(#"<< attribute.user.nope | default: "a >> b | c }} d" >>"#, "a &gt;&gt; b | c }} d"),
        .init(#"<< attribute.user.nope | default: "Grüße 👋" >>"#, "Grüße 👋"),
        .init("<< attribute.user.nope | default: \"two\nlines\" >>", "two\nlines"),
        // upper, lower
        .init("<< attribute.user.first_name | upper >>", "ADA"),
        .init("<< attribute.user.first_name | lower >>", "ada"),
        .init("<< attribute.user.street | upper >>", "STRASSE"),
        .init("<< attribute.user.名前 | upper >>", "花子"),
        .init("<< attribute.user.vip | upper >>", "TRUE"),
        .init("[<< attribute.user.nope | upper >>]", "[]"),
        // escape and raw: escaping is the default in html mode; raw anywhere in the chain opts out;
        // an explicit escape is not doubled.
        .init("<< attribute.user.html >>", "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"),
        .init("<< attribute.user.html | escape >>", "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"),
        .init("<< attribute.user.html | raw >>", "<b>\"Tom\" & 'Jerry'</b>"),
        .init("<< attribute.user.html | raw | upper >>", "<B>\"TOM\" & 'JERRY'</B>"),
        .init("<< attribute.user.html | upper | raw >>", "<B>\"TOM\" & 'JERRY'</B>"),
        .init("<< attribute.user.html | escape | raw >>", "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"),
        .init(
            "<< attribute.user.html | escape | escape >>",
            "&amp;lt;b&amp;gt;&amp;quot;Tom&amp;quot; &amp;amp; &amp;#39;Jerry&amp;#39;&amp;lt;/b&amp;gt;"),
        .init("<< attribute.user.html >>", "<b>\"Tom\" & 'Jerry'</b>", mode: .payload),
        .init("<< attribute.user.html | raw >>", "<b>\"Tom\" & 'Jerry'</b>", mode: .payload),
        .init(
            "<< attribute.user.html | escape >>", "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;",
            mode: .payload),
        // url
        .init("<< attribute.user.query_text | url >>", "a%20b%26c%2Fd%3F%C3%A9~-._"),
        .init("/search?q=<< attribute.account.company.name | url >>", "/search?q=Acme%20%26%20Co"),
        .init("<< attribute.user.名前 | url >>", "%E8%8A%B1%E5%AD%90"),
        .init("[<< attribute.user.nope | url >>]", "[]"),
        // json
        .init("<< attribute.user.first_name | json >>", "&quot;Ada&quot;"),
        .init("<< attribute.user.first_name | json | raw >>", "\"Ada\""),
        .init("<< attribute.user.first_name | json >>", "\"Ada\"", mode: .payload),
        .init("<< attribute.user.age | json >>", "36"),
        .init("<< attribute.user.vip | json >>", "true"),
        .init("<< attribute.user.nope | json >>", "null"),
        .init("<< attribute.user.nothing | json >>", "null"),
        .init("<< attribute.user.address | json | raw >>", #"{"city":"London","zip":"N1 9GU"}"#),
        .init("<< attribute.user.script | json | raw >>", #""\u003c/script>\u003cx>""#),
        .init("<< attribute.user.html | json | raw >>", #""\u003cb>\"Tom\" & 'Jerry'\u003c/b>""#),
        // chains run left to right
        .init(#"<< attribute.user.nope | default: "friend" | upper >>"#, "FRIEND"),
        .init(#"<< attribute.user.nope | upper | default: "friend" >>"#, "friend"),
        .init(#"<< attribute.user.nope | default: "a b" | url >>"#, "a%20b"),
        .init(#"<< attribute.user.nope | default: "x" | json | raw >>"#, "\"x\""),
        .init("<< attribute.user.address.city | upper | json | raw >>", "\"LONDON\""),
        .init("<< attribute.user.first_name | upper | lower >>", "ada"),
        .init("<< attribute.user.html | url | escape >>", "%3Cb%3E%22Tom%22%20%26%20%27Jerry%27%3C%2Fb%3E"),
    ]

    static let syntax: [RenderCase] = [
        // {{ }} is untouched in html mode, a synonym for known roots in payload mode.
        .init("{{ attribute.user.first_name }}", "{{ attribute.user.first_name }}"),
        .init("<p>{{ cart.total }}</p>", "<p>{{ cart.total }}</p>"),
        .init("{{ attribute.user.first_name }}", "Ada", mode: .payload),
        .init("{{attribute.user.first_name}}", "Ada", mode: .payload),
        .init("{{ attribute.user.first_name | upper }}", "ADA", mode: .payload),
        .init(#"{{ attribute.user.nope | default: "you" }}"#, "you", mode: .payload),
        .init(
            "{{ payload.discount }}% for {{ visitor.device }} on {{ request.path }}", "30% for mobile on /pricing",
            mode: .payload),
        .init(
            "{{ cart.total }} and {{ }} and {{attributes.x}} and {{ payloadx }}",
            "{{ cart.total }} and {{ }} and {{attributes.x}} and {{ payloadx }}", mode: .payload),
        .init("{{ attribute.user.first_name }} << attribute.user.first_name >>", "Ada Ada", mode: .payload),
        .init("{{{ attribute.user.first_name }}}", "{Ada}", mode: .payload),
        .init(#"\{{ attribute.user.first_name }}"#, "{{ attribute.user.first_name }}", mode: .payload),
        .init(#"\{{ cart.total }}"#, #"\{{ cart.total }}"#, mode: .payload),
        .init(#"\{{ attribute.user.first_name }}"#, #"\{{ attribute.user.first_name }}"#),
        // A literal << is \<<; backslashes before << pair up.
        .init(#"a \<< b"#, "a << b"),
        .init(#"\<< attribute.user.first_name >>"#, "<< attribute.user.first_name >>"),
        .init(#"\\<< attribute.user.first_name >>"#, #"\Ada"#),
        .init(#"\\\<< x"#, #"\<< x"#),
        .init(#"\\\\<< attribute.user.first_name >>"#, #"\\Ada"#),
        .init(#"a \ b \\ c \< d \<x"#, #"a \ b \\ c \< d \<x"#),
        .init(#"1 \<< 2 is << payload.discount >>"#, "1 << 2 is 30"),
        .init(#"x \<<"#, "x <<"),
        .init("a >> b > c < d & e", "a >> b > c < d & e"),
        .init("", ""),
        .init("<<attribute.user.first_name>><<attribute.user.first_name>>", "AdaAda"),
        // Unicode text around substitutions.
        .init("Привет, << attribute.user.first_name >>! 👋🏽 — << attribute.user.名前 >> ✓", "Привет, Ada! 👋🏽 — 花子 ✓"),
        .init("é<<attribute.user.first_name>>é", "éAdaé"),
        .init("🇯🇵<< attribute.user.名前 | raw >>🇯🇵", "🇯🇵花子🇯🇵"),
    ]

    @Test(arguments: paths)
    func everyPathRoot(_ row: RenderCase) throws {
        try expectRender(row)
    }

    @Test(arguments: missing)
    func missingValuesRenderEmpty(_ row: RenderCase) throws {
        try expectRender(row)
    }

    @Test(arguments: filters)
    func filtersAndChains(_ row: RenderCase) throws {
        try expectRender(row)
    }

    @Test(arguments: syntax)
    func delimitersEscapesAndUnicode(_ row: RenderCase) throws {
        try expectRender(row)
    }

    private func expectRender(_ row: RenderCase) throws {
        let template = try Template(source: row.source, mode: row.mode)
        #expect(template.render(TemplateTestContext.full) == row.expected)
    }

    @Test func referrerAndValuesAbsentFromAnEmptyContext() throws {
        let template = try Template(
            source: "[<< request.referrer >>|<< request.path >>|<< request.url >>|<< attribute.user >>|<< payload >>]")
        #expect(template.render(TemplateContext()) == "[|/||{}|]")
    }

    @Test func constantTemplatesAreMarked() throws {
        let constant = ["", "plain text", "<p>{{ x }}</p>", #"a \ b"#, "x >> y", "a < b"]
        for source in constant {
            let template = try Template(source: source)
            #expect(template.isConstant, "\(source.debugDescription)")
            #expect(template.substitutionCount == 0)
            #expect(template.render(TemplateContext()) == source)
        }
        let notConstant = ["<< payload.x >>", #"\<<"#, "a << visitor.device >> b << request.path >>"]
        for source in notConstant {
            #expect(try !Template(source: source).isConstant, "\(source.debugDescription)")
        }
        #expect(try Template(source: "a << visitor.device >> b << request.path >>").substitutionCount == 2)
        #expect(try Template(source: "{{ attribute.user.x }}", mode: .payload).substitutionCount == 1)
        #expect(try Template(source: "{{ attribute.user.x }}", mode: .html).isConstant)
    }

    @Test func equalityFollowsSourceAndMode() throws {
        #expect(try Template(source: "<< payload.x >>") != Template(source: "<<payload.x>>", mode: .html))
        #expect(try Template(source: "<< payload.x >>") == Template(source: "<< payload.x >>"))
        #expect(try Template(source: "a", mode: .html) != Template(source: "a", mode: .payload))
        let set: Set<Template> = [try Template(source: "a"), try Template(source: "a"), try Template(source: "b")]
        #expect(set.count == 2)
    }

    @Test func rendersTheSameForTheSameContextEveryTime() throws {
        let template = try Template(
            source: "<< attribute.user.first_name >> has << payload.discount >>% off, << attribute.user.html >>")
        let first = template.render(TemplateTestContext.full)
        for _ in 0..<100 { #expect(template.render(TemplateTestContext.full) == first) }
        #expect(first == "Ada has 30% off, &lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;")
    }

    @Test func renderUnescapedSkipsOnlyTheAutomaticEscape() throws {
        let context = TemplateTestContext.full
        let template = try Template(
            source:
                "<i><< attribute.user.html >></i> {{ attribute.user.first_name }} \\<< << attribute.user.html | escape >>"
        )
        #expect(
            template.renderUnescaped(context)
                == "<i><b>\"Tom\" & 'Jerry'</b></i> {{ attribute.user.first_name }} << &lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        )
        #expect(
            template.render(context)
                == "<i>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</i> {{ attribute.user.first_name }} << &lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        )
        let payloadMode = try Template(source: "{{ attribute.user.html }}", mode: .payload)
        #expect(payloadMode.renderUnescaped(context) == payloadMode.render(context))
        let constant = try Template(source: "a & b")
        #expect(constant.renderUnescaped(context) == "a & b")
    }

    @Test func visitorFactsComeFromTheDecisionRequest() throws {
        let request = DecisionRequest(
            identification: .init(sourceId: "1", profileId: "p-7"), device: .desktop, sessionId: "s-1",
            isNewVisitor: true)
        let context = TemplateContext(visitor: TemplateContext.visitorFacts(for: request))
        let template = try Template(
            source:
                "<< visitor.device >> << visitor.profile_id >> << visitor.session_id >> << visitor.new >> << visitor.returning >>"
        )
        #expect(template.render(context) == "desktop p-7 s-1 true false")
        let anonymous = TemplateContext.visitorFacts(for: DecisionRequest(identification: .init()))
        #expect(anonymous["profile_id"] == nil)
        #expect(anonymous["session_id"] == nil)
        #expect(anonymous["returning"] == true)
    }
}

/// The context every template test renders with; each root has values of every JSON kind.
enum TemplateTestContext {
    static let full = TemplateContext(
        user: [
            "first_name": "Ada",
            "age": 36,
            "score": 3.5,
            "zero": 0,
            "vip": true,
            "off": false,
            "empty": "",
            "nothing": nil,
            "address": ["city": "London", "zip": "N1 9GU"],
            "tags": ["alpha", "beta"],
            "html": "<b>\"Tom\" & 'Jerry'</b>",
            "street": "Straße",
            "query_text": "a b&c/d?é~-._",
            "名前": "花子",
            "script": "</script><x>",
        ],
        account: ["plan": "pro", "company": ["name": "Acme & Co"], "seats": 12],
        payload: [
            "discount": 30,
            "headline": "Save now",
            "items": [["name": "Tea"], ["name": "Cake"]],
            "nested": ["deep": ["er": "x"]],
        ],
        visitor: ["device": "mobile", "profile_id": "p-1", "session_id": "s-9", "new": false, "returning": true],
        request: PageFacts(
            path: "/pricing", url: "https://shop.example/pricing?utm_source=mail&q=a+b",
            query: ["utm_source": "mail", "q": "a b", "utm.medium": "dotted"], referrer: "https://search.example/?q=<x>"
        )
    )
}

/// One row of a rendering table.
struct RenderCase: Sendable, CustomTestStringConvertible {
    let source: String
    let mode: Template.Mode
    let expected: String

    init(_ source: String, _ expected: String, mode: Template.Mode = .html) {
        self.source = source
        self.mode = mode
        self.expected = expected
    }

    var testDescription: String { "\(mode) \(source.debugDescription)" }
}
