import Testing
import VeneerCore

@Suite struct SelectorTests {
    @Test func parsesEverySupportedForm() throws {
        let selector = try CSSSelector(
            parsing: "main > .card:nth-child(2n+1) a[href^=\"/\"], #hero, DIV:not(.x):first-child [data-x~=y i]")
        #expect(selector.alternatives.count == 3)
        let first = selector.alternatives[0]
        #expect(first.compounds.count == 3)
        #expect(first.combinators == [.child, .descendant])
        #expect(first.compounds[0].typeName == "main")
        #expect(first.compounds[1].conditions == [.className("card"), .nthChild(a: 2, b: 1)])
        #expect(first.subject.conditions == [.attribute(AttributeSelector(name: "href", match: .prefix, value: "/"))])
        #expect(selector.alternatives[1].requiredFragments == ["hero"])
        let third = selector.alternatives[2]
        #expect(third.compounds[0].typeName == "div")
        #expect(
            third.compounds[0].conditions == [
                .not(CompoundSelector(typeName: nil, conditions: [.className("x")])), .firstChild,
            ])
        #expect(
            third.subject.conditions == [
                .attribute(AttributeSelector(name: "data-x", match: .includesWord, value: "y", caseInsensitive: true))
            ])
        #expect(third.requiredFragments.isEmpty, "case-insensitive values and :not are not required fragments")
    }

    @Test(arguments: [
        ("odd", 2, 1), ("even", 2, 0), ("2n+1", 2, 1), ("-n+3", -1, 3), ("3", 0, 3), ("n", 1, 0), ("+5", 0, 5),
        (" 3n - 2 ", 3, -2),
    ])
    func parsesNthChild(_ argument: String, _ a: Int, _ b: Int) throws {
        let selector = try CSSSelector(parsing: "li:nth-child(\(argument))")
        #expect(selector.alternatives[0].subject.conditions == [.nthChild(a: a, b: b)])
    }

    @Test func nthChildAdmitsTheRightIndices() {
        #expect((1...7).filter { SimpleSelector.nthChild(a: 2, b: 1, admits: $0) } == [1, 3, 5, 7])
        #expect((1...7).filter { SimpleSelector.nthChild(a: -1, b: 3, admits: $0) } == [1, 2, 3])
        #expect((1...7).filter { SimpleSelector.nthChild(a: 3, b: -2, admits: $0) } == [1, 4, 7])
        #expect((1...7).filter { SimpleSelector.nthChild(a: 0, b: 4, admits: $0) } == [4])
    }

    @Test(arguments: [
        ("", 1, "empty selector"),
        ("div >", 6, "a selector is missing after the combinator"),
        ("a + b", 3, "sibling combinator"),
        ("a:hover", 2, "unsupported pseudo-class"),
        ("[href", 6, "\"]\" expected"),
        ("#1a", 2, "cannot start with a digit"),
        ("li:nth-child(foo)", 14, ":nth-child\" takes"),
        ("a,", 3, "missing after \",\""),
        ("p::before", 2, "pseudo-elements"),
        ("[x=\"open]", 4, "unterminated string"),
        ("div$", 4, "unexpected"),
    ])
    func reportsErrorsWithTheirColumn(_ source: String, _ column: Int, _ message: String) {
        do {
            _ = try CSSSelector(parsing: source)
            Issue.record("\"\(source)\" compiled")
        } catch {
            #expect(error.column == column, "\(source): \(error)")
            #expect(error.message.contains(message), "\(source): \(error)")
        }
    }

    @Test func attributeMatchingOperators() {
        #expect(AttributeSelector(name: "a", match: .equals, value: "x").matches(value: "x"))
        #expect(!AttributeSelector(name: "a", match: .equals, value: "x").matches(value: "X"))
        #expect(AttributeSelector(name: "a", match: .equals, value: "x", caseInsensitive: true).matches(value: "X"))
        #expect(AttributeSelector(name: "a", match: .suffix, value: ".pdf").matches(value: "a.pdf"))
        #expect(AttributeSelector(name: "a", match: .contains, value: "mid").matches(value: "a-mid-b"))
        #expect(AttributeSelector(name: "a", match: .includesWord, value: "b").matches(value: "a b c"))
        #expect(!AttributeSelector(name: "a", match: .includesWord, value: "b").matches(value: "abc"))
        #expect(AttributeSelector(name: "a", match: .dashPrefix, value: "en").matches(value: "en-US"))
        #expect(!AttributeSelector(name: "a", match: .prefix, value: "").matches(value: "x"))
    }
}
