import VeneerCore
import VeneerHTML

// libFuzzer target for page templates: a page, then the same page with some of its words replaced, must be
// rewritten exactly as a rewriter that parses every page rewrites it. From Fuzz/:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product PageTemplateFuzzer
//   .build/debug/PageTemplateFuzzer -max_total_time=300 -max_len=8192
//
// Input: a first byte choosing which words change (bit i of it: every word whose index is i mod 8), then the
// page.

let changes: [RenderedChange] = [
    change(["selector": "#hero", "action": "replace", "html": "<section id=\"hero\">H</section>"]),
    change(["selector": "div > p:nth-child(2)", "action": "text", "text": "T"]),
    change(["selector": ".cta, li:first-child", "action": "add-class", "value": "green"]),
    change(["selector": "[data-v=b]", "action": "attribute", "name": "data-x", "value": "1"]),
    change(["selector": "p", "action": "after", "html": "<hr>"]),
]

func change(_ json: JSONValue) -> RenderedChange {
    try! PageChange(json: json).rendered(TemplateContext(), templates: [:])
}

func isWordByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    default:
        return "-_+/=.:".utf8.contains(byte)
    }
}

/// `page` with the chosen words replaced by words of another length.
func variant(of page: [UInt8], choice: UInt8) -> [UInt8] {
    var output: [UInt8] = []
    var index = 0
    var word = 0
    while index < page.count {
        guard isWordByte(page[index]) else {
            output.append(page[index])
            index += 1
            continue
        }
        let start = index
        while index < page.count, isWordByte(page[index]) { index += 1 }
        if choice & (1 << (word % 8)) != 0 {
            output += Array("n0nce-\(word)".utf8)
        } else {
            output += page[start..<index]
        }
        word += 1
    }
    return output
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 1 else { return 0 }
    let page = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let second = variant(of: page, choice: data[0])
    let rewriter = PageRewriter(cacheCapacity: 4, templateCapacity: 2)
    _ = rewriter.rewrite(page, contentTypeCharset: nil, changes: changes)
    let result = rewriter.rewrite(second, contentTypeCharset: nil, changes: changes)
    let parsed = PageRewriter(cacheCapacity: 0, templateCapacity: 0).rewrite(
        second, contentTypeCharset: nil, changes: changes)
    precondition(result.output == parsed.output, "a derived page differs from its parse")
    precondition(result.skipped == parsed.skipped, "a derived page's skipped changes differ from its parse's")
    return 0
}

// SwiftPM links debug executables with `--defsym main=PageTemplateFuzzer_main`, which hides libFuzzer's
// `main`; this entry runs libFuzzer's driver with the callback above.
@_silgen_name("LLVMFuzzerRunDriver")
private func libFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("PageTemplateFuzzer_main")
public func pageTemplateFuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return libFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
