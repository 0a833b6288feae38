import CLibXML2

/// libxml2's own parse costs, for the benchmarks' comparison: the rewriter's first sight of a
/// page should cost no more than libxml2's SAX parse of it.
@_spi(Benchmarks)
public enum LibXML2Baseline {
    /// A SAX parse with no callbacks (the parser's work alone), with the rewriter's options:
    /// `htmlParseDocument`, libxml2's pull parser, as `htmlSAXParseDoc` and the anchor use it.
    public static func saxParse(_ page: [UInt8]) {
        precondition(ElementScanner.initialized)
        page.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                guard let context = htmlCreateMemoryParserCtxt(pointer, Int32(bytes.count)) else { return }
                var handler = htmlSAXHandler()
                handler.initialized = 1
                context.pointee.sax.pointee = handler
                _ = htmlCtxtUseOptions(context, ElementScanner.options)
                context.pointee.charset = Int32(XML_CHAR_ENCODING_UTF8.rawValue)
                _ = htmlParseDocument(context)
                htmlFreeParserCtxt(context)
            }
        }
    }

    /// The same with libxml2's push parser given the whole page in one chunk, as the rewriter
    /// drives it: libxml2's cheapest way through a page.
    public static func saxPushParse(_ page: [UInt8]) {
        precondition(ElementScanner.initialized)
        page.withUnsafeBufferPointer { bytes in
            var handler = htmlSAXHandler()
            handler.initialized = 1
            guard let context = htmlCreatePushParserCtxt(&handler, nil, nil, 0, nil, XML_CHAR_ENCODING_UTF8) else {
                return
            }
            _ = htmlCtxtUseOptions(context, ElementScanner.options)
            _ = bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                htmlParseChunk(context, $0, Int32(bytes.count), 1)
            }
            htmlFreeParserCtxt(context)
        }
    }

    /// `htmlReadMemory`: the parse into a libxml2 tree (what a DOM-based rewriter starts with).
    public static func treeParse(_ page: [UInt8]) {
        precondition(ElementScanner.initialized)
        page.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { pointer in
                if let document = htmlReadMemory(pointer, Int32(bytes.count), nil, "UTF-8", ElementScanner.options) {
                    xmlFreeDoc(document)
                }
            }
        }
    }
}
