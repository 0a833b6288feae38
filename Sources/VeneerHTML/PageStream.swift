/// The rewrite of a page sent while it arrives, following a `PagePrediction`: a pure state machine that says which
/// bytes may go out now and with which edits. The caller keeps every byte received (a page that turns out different
/// from the prediction is rewritten whole at its end) and sends what `advance` returns.
///
/// Bytes go out once the blocks holding them match the predicted page. Before the edits are known (they need the
/// bytes up to the last matched element), only the bytes before the first matched element go. After a block that
/// does not match, nothing more goes: the page is rewritten whole when it is complete, and `remainder(of:)` gives
/// the edits of that rewrite still to send, and whether it agrees with what was sent.
///
/// ```swift
/// var stream = PageStream(prediction)
/// if let piece = stream.advance(received, complete: false) { send(received[piece.range], with: piece.edits) }
/// // at the end: stream.advance(received, complete: true); stream.isFinished, or rewrite and stream.remainder(of:)
/// ```
public struct PageStream: Sendable {
    /// Input bytes to send, with the edits that fall in them (offsets in the page).
    public struct Piece: Sendable, Equatable {
        public var range: Range<Int>
        public var edits: [SplicedEdit]
    }

    public let prediction: PagePrediction
    /// Input bytes sent so far: everything before this offset.
    public private(set) var sent = 0
    /// The rewrite of the predicted page, once the bytes it needs are known.
    public private(set) var result: RewriteResult?
    /// Whether a block differed from the predicted page (or the page is longer or shorter than it).
    public private(set) var diverged = false
    private var verifiedBlocks = 0
    /// Edits of `result` sent so far.
    private var sentEdits = 0

    public init(_ prediction: PagePrediction) {
        self.prediction = prediction
    }

    /// The whole page is the predicted one and all of it has been sent; `result` says what changed.
    public var isFinished: Bool { !diverged && sent == prediction.length && result != nil }

    /// The edits sent so far, in page order.
    public var editsSent: ArraySlice<SplicedEdit> { result?.edits[..<sentEdits] ?? [] }

    /// What may be sent now of `page` (every byte received so far; `complete` when the origin has sent all), at
    /// most up to input offset `limit`. nil when nothing new may go.
    public mutating func advance(
        _ page: UnsafeBufferPointer<UInt8>, complete: Bool, limit: Int = .max
    ) -> Piece? {
        // Once the page differs, nothing more goes: its whole rewrite decides the rest. The blocks that matched
        // before the one that differs still go now.
        guard !diverged else { return nil }
        verify(page, complete: complete)
        let verified = min(verifiedBlocks * PagePrediction.blockSize, prediction.length)
        let whole = !diverged && verified == prediction.length
        if result == nil, verified > prediction.editHorizon || whole {
            result = prediction.rewrite(prefix: UnsafeBufferPointer(rebasing: page[..<verified]))
        }
        var target = min(result == nil ? min(verified, prediction.firstElementStart) : verified, limit)
        // Insertions at the page's end go only once the origin has said that it ends there.
        let ends = complete && whole && target == prediction.length
        guard target > sent || (ends && hasEditsAt(target)) else { return nil }
        var edits: [SplicedEdit] = []
        if let result {
            // An insertion at `target` goes with the next piece, unless the page ends there.
            while sentEdits < result.edits.count {
                let edit = result.edits[sentEdits]
                guard edit.range.lowerBound < target || (ends && edit.range.lowerBound == target) else { break }
                edits.append(edit)
                sentEdits += 1
            }
        }
        // A limit inside an edit's range moves to its end: the replacement stands for all of that range.
        if let last = edits.last, last.range.upperBound > target { target = last.range.upperBound }
        let piece = Piece(range: sent..<target, edits: edits)
        sent = target
        return piece
    }

    private func hasEditsAt(_ offset: Int) -> Bool {
        guard let result, sentEdits < result.edits.count else { return false }
        return result.edits[sentEdits].range.lowerBound == offset
    }

    private mutating func verify(_ page: UnsafeBufferPointer<UInt8>, complete: Bool) {
        // A page longer than the predicted one has a last block that differs, and one that ends short does too;
        // the blocks before still count.
        let lastBlock = prediction.blockCount - 1
        while verifiedBlocks < prediction.blockCount {
            let range = prediction.blockRange(verifiedBlocks)
            guard range.upperBound <= page.count else { break }
            if verifiedBlocks == lastBlock, page.count > prediction.length { break }
            guard BodyHash.hash(UnsafeBufferPointer(rebasing: page[range])) == prediction.blockHashes[verifiedBlocks]
            else {
                diverged = true
                return
            }
            verifiedBlocks += 1
        }
        if page.count > prediction.length || (complete && page.count < prediction.length) { diverged = true }
    }

    /// What a page that diverged still needs after the bytes sent, given the edits of its whole rewrite (in page
    /// order): those at or after `sent`. `agrees` is false when the rewrite disagrees with what was sent (an edit
    /// sent that it does not make, or one of its own before `sent` or across it); the rest then still goes, with the
    /// edits that fit, so the page is complete: its first part changed as the page parsed before was, the rest as
    /// this one is. The selectors Veneer supports decide a match from what comes before it, so this takes a
    /// parser that reads the same bytes two ways.
    public func remainder(of edits: [SplicedEdit]) -> (edits: ArraySlice<SplicedEdit>, agrees: Bool) {
        let before = edits.prefix { $0.range.lowerBound < sent }
        let rest = edits[before.endIndex...]
        let agrees = before.elementsEqual(editsSent) && (before.last.map { $0.range.upperBound <= sent } ?? true)
        return (rest, agrees)
    }
}
