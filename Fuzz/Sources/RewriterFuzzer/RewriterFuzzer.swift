import VeneerCore
import VeneerHTML

// libFuzzer target for the page rewriter (and the selector parser). From Fuzz/:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product RewriterFuzzer
//   .build/debug/RewriterFuzzer -max_total_time=300 -max_len=65536
//
// Input: an optional first line `selector\n` (used when it compiles), then the page. Every run
// checks the rewriter's promise: the output is the input with the reported edits spliced in,
// every edit starts and ends on a tag boundary of the input, and an unchanged result is the input.

let rewriter = PageRewriter(cacheCapacity: 8)

let defaultChanges: [RenderedChange] = [
    change(["selector": "#hero", "action": "replace", "html": "<section id=\"hero\">H</section>"]),
    change(["selector": "div > p:nth-child(2n+1)", "action": "text", "text": "T<&>"]),
    change(["selector": ".cta, li:first-child", "action": "add-class", "value": "green"]),
    change(["selector": "li:not(.x)", "action": "append", "html": "!"]),
    change(["selector": "a[href^=\"/\"]", "action": "attribute", "name": "data-x", "value": "\"q\""]),
    change(["selector": "p", "action": "before", "html": "<hr>"]),
    change(["selector": "td", "action": "remove-class", "value": "a"]),
]

func change(_ json: JSONValue) -> RenderedChange {
    try! PageChange(json: json).rendered(TemplateContext(), templates: [:])
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var page = Array(UnsafeBufferPointer(start: data, count: size))
    var changes = defaultChanges
    if let newline = page.firstIndex(of: 10), newline < 200 {
        let text = String(decoding: page[..<newline], as: UTF8.self)
        if let selector = try? CSSSelector(parsing: text) {
            changes = [
                RenderedChange(selector: selector, action: .inner, html: "<b>in</b>"),
                RenderedChange(selector: selector, action: .style, value: "color: red"),
                RenderedChange(selector: selector, action: .after, html: "<i>after</i>"),
            ]
            page.removeSubrange(...newline)
        }
    }
    let result = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
    if !result.changed {
        precondition(result.output == page, "an unchanged result differs from the input")
        return 0
    }
    var rebuilt: [UInt8] = []
    var cursor = 0
    for edit in result.edits {
        precondition(
            edit.range.lowerBound >= cursor && edit.range.upperBound <= page.count,
            "edits overlap or run past the input")
        for offset in [edit.range.lowerBound, edit.range.upperBound] {
            precondition(isTagBoundary(page, offset), "an edit boundary at \(offset) is not on a tag boundary")
        }
        rebuilt += page[cursor..<edit.range.lowerBound]
        rebuilt += edit.replacement
        cursor = edit.range.upperBound
    }
    rebuilt += page[cursor...]
    precondition(rebuilt == result.output, "the output is not the input with the reported edits")
    return 0
}

func isTagBoundary(_ bytes: [UInt8], _ offset: Int) -> Bool {
    if offset == 0 || offset == bytes.count { return true }
    if bytes[offset - 1] == UInt8(ascii: ">") { return true }
    guard bytes[offset] == UInt8(ascii: "<"), offset + 1 < bytes.count else { return false }
    let next = bytes[offset + 1] | 0x20
    return (next >= UInt8(ascii: "a") && next <= UInt8(ascii: "z")) || bytes[offset + 1] == UInt8(ascii: "/")
}

// SwiftPM links debug executables with `--defsym main=RewriterFuzzer_main`, which hides
// libFuzzer's `main`; this entry runs libFuzzer's driver with the callback above.
@_silgen_name("LLVMFuzzerRunDriver")
private func libFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("RewriterFuzzer_main")
public func rewriterFuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return libFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
