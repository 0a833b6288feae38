import VeneerCore

// libFuzzer entry: compiles arbitrary bytes as a template in both modes and as a payload string,
// renders whatever compiles, and checks the invariants callers rely on. Build and run from Fuzz/:
//   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product TemplateFuzzer
//   .build/debug/TemplateFuzzer -max_total_time=300

private let context = TemplateContext(
    user: [
        "first_name": "Ada", "html": "<b>\"x\" & 'y'</b>", "age": 36, "score": 0.5, "vip": true, "empty": "",
        "nothing": nil, "address": ["city": "Zürich", "tags": ["a", "b", 3]], "名前": "花子",
    ],
    account: ["plan": "pro", "seats": 12],
    payload: ["discount": 30, "items": [["name": "Tea"], ["name": "<Cake>"]], "text": "a\nb\u{0}c"],
    visitor: ["device": "mobile", "new": false, "returning": true, "profile_id": "p-1"],
    request: PageFacts(
        path: "/p", url: "https://shop.example/p?q=a%20b", query: ["q": "a b", "x.y": "z"],
        referrer: "https://r.example/")
)

@_cdecl("LLVMFuzzerTestOneInput")
public func templateFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lineCount = source.utf8.count { $0 == 0x0A } + 1
    for mode in [Template.Mode.html, .payload] {
        do {
            let template = try Template(source: source, mode: mode)
            let rendered = template.render(context)
            if template.isConstant {
                precondition(rendered == source, "a constant template must render its source")
            }
            let unescaped = template.renderUnescaped(context)
            if mode == .payload || template.isConstant {
                precondition(unescaped == rendered, "nothing to escape, yet renderUnescaped differs")
            }
            if template.substitutionCount == 0 {
                precondition(
                    template.render(TemplateContext()) == rendered, "no substitution, yet output depends on context")
            }
        } catch {
            precondition(error.line >= 1 && error.line <= lineCount, "line \(error.line) outside 1...\(lineCount)")
            precondition(error.column >= 1, "column \(error.column)")
            precondition(!error.message.isEmpty, "empty message")
        }
    }
    do {
        let payload = try PayloadTemplate(["a": [.string(source), 1], "b": .string(source)])
        _ = payload.render(context)
    } catch {
        precondition(error.keyPath == "a[0]", "key path \(error.keyPath)")
    }
    return 0
}

// SwiftPM links debug executables with `--defsym main=TemplateFuzzer_main` (so tests can import
// them), which hides libFuzzer's own `main`; this entry hands control to libFuzzer's driver instead.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("TemplateFuzzer_main")
public func templateFuzzerMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, templateFuzzerTestOneInput)
}
