import Synchronization
import VeneerCore

/// Applies rendered changes to an HTML page, splicing them into the original bytes so that every
/// byte outside the changed elements comes out as it went in.
///
/// Thread-safe and synchronous (call it off the event loop for large pages). libxml2 is used only
/// to understand the page; its findings — the element boundaries for a set of selectors — are
/// kept in a bounded cache keyed by a hash of the body, so a page many visitors receive is parsed
/// once and later only hashed and spliced. A page in which no selector's id, class or attribute
/// value occurs is not parsed at all. A page that differs from a recently parsed one only in words
/// (a fresh nonce, CSRF token or request id in text or in an attribute no selector reads) takes
/// that parse's findings, moved to its offsets (`PageTemplate`). What a parse found is also kept by the page's first
/// 4 KB, so that a response that starts the same way can be rewritten while it arrives (`predict`, `PageStream`).
///
/// ```swift
/// let rewriter = PageRewriter()
/// let change = try PageChange(json: ["selector": "#hero h1", "action": "text", "text": "Hi << attribute.user.first_name >>"])
/// let result = rewriter.rewrite(page, contentTypeCharset: "utf-8",
///                               changes: [change.rendered(context, templates: templates)])
/// // result.output: the page; result.skipped: what was not applied and why
/// ```
///
/// `rewrite` never throws: when the page cannot be changed the answer is the page as it was, with
/// the reasons in `skipped`.
public final class PageRewriter: Sendable {
    /// Pages larger than this are returned unchanged.
    public let maximumPageBytes: Int
    private let cache: Mutex<ParseCache>
    private let templates: Mutex<PageTemplates>
    private let keepsTemplates: Bool
    /// Parsed pages by their first block, for rewriting the next response that starts the same way while it arrives.
    let predictions: Mutex<LeastRecentlyUsedMap<PagePredictions.Key, PagePredictions.Entry>>

    /// `templateCapacity`: parsed pages kept to answer pages that differ from them only in words (a fresh
    /// nonce or token per response) without a parse; 0 turns that off.
    public init(cacheCapacity: Int = 256, maximumPageBytes: Int = 64 << 20, templateCapacity: Int = 8) {
        self.cache = Mutex(ParseCache(capacity: cacheCapacity))
        self.templates = Mutex(PageTemplates(capacity: templateCapacity))
        self.keepsTemplates = templateCapacity > 0
        self.predictions = Mutex(LeastRecentlyUsedMap(capacity: cacheCapacity))
        self.maximumPageBytes = maximumPageBytes
        // libxml2's global set-up happens here, once, when the proxy creates its rewriter at start-up.
        precondition(ElementScanner.initialized)
    }

    /// Statistics of the parse cache, for ops endpoints and tests.
    public struct CacheStatistics: Sendable, Hashable {
        public var hits: Int
        /// Pages parsed.
        public var misses: Int
        public var entries: Int
        /// Pages answered from a kept page they differ from only in words, without a parse.
        public var derived: Int = 0
    }

    public var cacheStatistics: CacheStatistics {
        var statistics = cache.withLock { CacheStatistics(hits: $0.hits, misses: $0.misses, entries: $0.count) }
        statistics.derived = templates.withLock { $0.derived }
        return statistics
    }

    /// Applies `changes` to `page`. `contentTypeCharset` is the `charset` parameter of the
    /// response's Content-Type, if any.
    public func rewrite(_ page: [UInt8], contentTypeCharset: String?, changes: [RenderedChange]) -> RewriteResult {
        rewrite(page, contentTypeCharset: contentTypeCharset, changes: changes, diagnostics: nil)
    }

    /// The edits `rewrite` would splice in, when they are cheap to find: nil when the page would have to be
    /// parsed first (its parse is not cached). The result's `output` stays empty; its `edits`, in page order
    /// and with replacements in the page's encoding, say what to send in place of which input bytes. A caller
    /// on an event loop answers a cached page at once, without copying it, and sends the rest elsewhere.
    public func editsIfParsed(
        _ page: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, changes: [RenderedChange]
    ) -> RewriteResult? {
        rewrite(
            bytes: page, contentTypeCharset: contentTypeCharset, changes: changes, parseWhenNotCached: false,
            buildsOutput: false, diagnostics: nil)
    }

    /// What happened inside one `rewrite`, for tests and benchmarks.
    struct Diagnostics {
        var cacheHit = false
        var derivedFromTemplate = false
        var skippedByPrecheck = false
        var stoppedEarly = false
        var parsedByPullParser = false
    }

    func rewrite(
        _ page: [UInt8], contentTypeCharset: String?, changes: [RenderedChange],
        diagnostics: UnsafeMutablePointer<Diagnostics>?
    )
        -> RewriteResult
    {
        // Always some result: a parse is allowed.
        rewrite(
            page, contentTypeCharset: contentTypeCharset, changes: changes, parseWhenNotCached: true,
            diagnostics: diagnostics)!
    }

    private func rewrite(
        _ page: [UInt8], contentTypeCharset: String?, changes: [RenderedChange], parseWhenNotCached: Bool,
        diagnostics: UnsafeMutablePointer<Diagnostics>? = nil
    )
        -> RewriteResult?
    {
        let result = page.withUnsafeBufferPointer { bytes in
            rewrite(
                bytes: bytes, contentTypeCharset: contentTypeCharset, changes: changes,
                parseWhenNotCached: parseWhenNotCached, buildsOutput: true, diagnostics: diagnostics)
        }
        guard var result else { return nil }
        if !result.changed { result.output = page }
        return result
    }

    /// The rewrite of `bytes`; an unchanged page comes back with an empty `output` (the caller has the input).
    private func rewrite(
        bytes: UnsafeBufferPointer<UInt8>, contentTypeCharset: String?, changes: [RenderedChange],
        parseWhenNotCached: Bool, buildsOutput: Bool, diagnostics: UnsafeMutablePointer<Diagnostics>?
    )
        -> RewriteResult?
    {
        func unchanged(_ reason: String) -> RewriteResult {
            RewriteResult(
                output: [], applied: 0,
                skipped: changes.map { SkippedChange(selector: $0.selector.source, reason: reason) },
                changed: false)
        }
        guard !changes.isEmpty else { return RewriteResult(output: [], applied: 0, skipped: [], changed: false) }
        guard bytes.count <= maximumPageBytes else {
            return unchanged(
                "the page (\(bytes.count) bytes) is larger than the rewrite limit of \(maximumPageBytes) bytes")
        }
        let (selectors, selectorIndex) = Self.distinctSelectors(changes)
        let charset: PageCharset
        switch PageCharset.detect(bytes, contentTypeCharset: contentTypeCharset) {
        case .success(let detected): charset = detected
        case .failure(let unsupported):
            return unchanged(
                "the page's encoding \"\(unsupported.label)\" is not supported (UTF-8 and windows-1252 are)")
        }
        let key = ParseCache.Key(
            hash: BodyHash.hash(bytes), length: bytes.count, charset: charset, selectors: selectors.map(\.source))
        let scan: ScanResult
        if let cached = cache.withLock({ $0.lookup(key) }) {
            scan = cached
            diagnostics?.pointee.cacheHit = true
        } else if keepsTemplates,
            let derived = derivedScan(bytes, key: PageTemplates.Key(charset: charset, selectors: key.selectors))
        {
            // Not cached: a page with a fresh token is not seen again, and deriving costs about what a hash does.
            scan = derived
            diagnostics?.pointee.derivedFromTemplate = true
        } else {
            guard parseWhenNotCached else { return nil }
            scan = Self.scan(bytes, charset: charset, selectors: selectors)
            cache.withLock { $0.insert(scan, for: key) }
            rememberForStreaming(
                bytes, contentTypeCharset: contentTypeCharset, charset: charset, selectors: key.selectors, scan: scan)
            if keepsTemplates,
                let template = PageTemplate(
                    page: bytes, scan: scan, guardedAttributes: PageTemplate.guardedAttributes(for: selectors))
            {
                let templateKey = PageTemplates.Key(charset: charset, selectors: key.selectors)
                templates.withLock { $0.insert(template, for: templateKey) }
            }
        }
        diagnostics?.pointee.skippedByPrecheck = scan.skippedByPrecheck
        diagnostics?.pointee.stoppedEarly = scan.stoppedEarly
        diagnostics?.pointee.parsedByPullParser = scan.parsedByPullParser
        var splicer = PageSplicer(page: bytes, charset: charset)
        return splicer.apply(changes, selectorIndex: selectorIndex, scan: scan, buildsOutput: buildsOutput)
    }

    /// The distinct selectors of `changes`, in first-use order (cache entries are for this list), and for each change
    /// the index of its selector in that list.
    static func distinctSelectors(_ changes: [RenderedChange]) -> (selectors: [CSSSelector], index: [Int]) {
        var selectors: [CSSSelector] = []
        var selectorIndex: [Int] = []
        for change in changes {
            if let index = selectors.firstIndex(of: change.selector) {
                selectorIndex.append(index)
            } else {
                selectorIndex.append(selectors.count)
                selectors.append(change.selector)
            }
        }
        return (selectors, selectorIndex)
    }

    /// The parse of a kept page that `bytes` differs from only in words, moved to `bytes`' offsets. The
    /// comparisons run outside the lock: a template is an immutable value.
    private func derivedScan(_ bytes: UnsafeBufferPointer<UInt8>, key: PageTemplates.Key) -> ScanResult? {
        let candidates = templates.withLock { $0.candidates(for: key, length: bytes.count) }
        for (id, template) in candidates {
            if let scan = template.derive(for: bytes) {
                templates.withLock { $0.used(id) }
                return scan
            }
        }
        return nil
    }

    /// Finds the elements `selectors` match: byte pre-check, then the parse (stopped early when it can be).
    static func scan(_ page: UnsafeBufferPointer<UInt8>, charset: PageCharset, selectors: [CSSSelector]) -> ScanResult {
        let input = ParseInput(page: page, charset: charset)
        let program = SelectorProgram(selectors: selectors)
        func run(_ bytes: UnsafeBufferPointer<UInt8>) -> ScanResult {
            var search = FragmentSearch(page: bytes)
            guard program.precheck(&search) else {
                var result = ScanResult.empty(selectors.count)
                result.skippedByPrecheck = true
                return result
            }
            return ElementScanner.scan(bytes, program: program, horizon: program.horizon(&search))
        }
        guard let copy = input.copy else { return run(page) }
        var result = copy.withUnsafeBufferPointer(run)
        // Back to page offsets (they differ only for a transcoded windows-1252 page).
        for selector in result.elements.indices {
            result.elements[selector] = result.elements[selector].map { element in
                ElementBoundary(
                    startTagStart: input.pageOffset(element.startTagStart),
                    startTagEnd: input.pageOffset(element.startTagEnd),
                    contentEnd: input.pageOffset(element.contentEnd), end: input.pageOffset(element.end),
                    hasContent: element.hasContent)
            }
        }
        return result
    }
}
