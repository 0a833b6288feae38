/// What one parse found for a set of selectors, in page offsets.
struct ScanResult: Sendable {
    /// Per selector (in `SelectorProgram.selectors` order): the matching elements in document order.
    var elements: [[ElementBoundary]]
    /// Per selector: matching elements whose boundaries could not be verified, with the reason.
    var problems: [[String]]
    /// Set when the page could not be examined at all; every change is skipped with this reason.
    var failure: String?
    /// Whether the parse was skipped because no selector's fragments occur in the page.
    var skippedByPrecheck = false
    /// Whether the parser was stopped before the end because no later element can match.
    var stoppedEarly = false
    /// Whether libxml2's pull parser read the page (a late doctype, or the push parser gave up).
    var parsedByPullParser = false

    static func empty(_ selectorCount: Int) -> ScanResult {
        ScanResult(
            elements: Array(repeating: [], count: selectorCount), problems: Array(repeating: [], count: selectorCount))
    }
}
