import VeneerCore

@_cdecl("LLVMFuzzerTestOneInput")
public func templateFuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let template = try? Template(source: source, mode: .html) { _ = template.render(TemplateContext()) }
    return 0
}
