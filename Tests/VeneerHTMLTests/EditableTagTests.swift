import Testing

@testable import VeneerHTML

/// The one-pass class addition gives the bytes the general attribute editor gives, or declines.
@Suite struct EditableTagTests {
    static func general(_ tag: String, _ names: [String]) -> [UInt8] {
        let bytes = Array(tag.utf8)
        return bytes.withUnsafeBufferPointer { page in
            var editable = EditableTag(StartTag(page, at: 0)!, in: page)
            editable.addClasses(names.map { Array($0.utf8) })
            return editable.bytes
        }
    }

    static func fast(_ tag: String, _ names: [String]) -> [UInt8]? {
        let bytes = Array(tag.utf8)
        return bytes.withUnsafeBufferPointer { page in
            EditableTag.addingClasses(names.map { Array($0.utf8) }, to: StartTag(page, at: 0)!, in: page)
        }
    }

    @Test(arguments: [
        ("<a class=\"btn cta\" href=\"/x\">", ["green"]),
        ("<a class=\"btn cta\">", ["cta"]),
        ("<a class=\"btn cta\">", ["a", "b", "a"]),
        ("<a CLASS='btn'>", ["x"]),
        ("<a class=\"\">", ["x", "y"]),
        ("<span class=\"price\"/>", ["price--sale"]),
        ("<a class=\" lead\">", ["x"]),
    ])
    func fastPathMatchesTheEditor(tag: String, names: [String]) throws {
        let fast = try #require(Self.fast(tag, names))
        #expect(String(decoding: fast, as: UTF8.self) == String(decoding: Self.general(tag, names), as: UTF8.self))
    }

    @Test(arguments: [
        ("<a class=btn>", ["x"]),
        ("<a class = \"btn\">", ["x"]),
        ("<a class=\"btn \">", ["x"]),
        ("<a href=\"/\">", ["x"]),
        ("<a class='btn'>", ["it's"]),
    ])
    func otherShapesGoTheGeneralWay(tag: String, names: [String]) {
        #expect(Self.fast(tag, names) == nil)
        #expect(!Self.general(tag, names).isEmpty)
    }
}
