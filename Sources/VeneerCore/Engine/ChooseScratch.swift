/// The memory one `choose` call works in, carved out of one temporary allocation (on the stack when it is
/// small): an answer per audience node and a value per fact, where each optimization's history sits in the
/// profile, each optimization's verdict, each template path's value and each substitution's text once known,
/// and the assignment key's UTF-16 code units (hashed once per optimization).
struct ChooseScratch {
    let answers: UnsafeMutablePointer<UInt8>
    let facts: UnsafeMutableBufferPointer<AudienceEvaluator.FactValue>
    let history: UnsafeMutableBufferPointer<HistorySlot>
    /// One per optimization, written by the first pass of `choose` (uninitialized until then; plain data).
    let verdicts: UnsafeMutablePointer<Engine.Verdict>
    let values: UnsafeMutableBufferPointer<PayloadRenderer.Resolution>
    let runs: UnsafeMutablePointer<PayloadRenderer.Run>
    let keyUnits: UnsafeBufferPointer<UInt16>

    /// Offsets of each region, in the order above, and the bytes they need.
    struct Layout {
        let tables: EngineTables
        let keyUnitCount: Int
        let answers: Int
        let facts: Int
        let history: Int
        let verdicts: Int
        let values: Int
        let runs: Int
        let keyUnits: Int
        let byteCount: Int

        init(tables: EngineTables, keyUnitCount: Int) {
            self.tables = tables
            self.keyUnitCount = keyUnitCount
            var end = 0
            func region<T>(_ type: T.Type, count: Int) -> Int {
                let start =
                    (end + MemoryLayout<T>.alignment - 1) / MemoryLayout<T>.alignment * MemoryLayout<T>.alignment
                end = start + MemoryLayout<T>.stride * count
                return start
            }
            answers = region(UInt8.self, count: tables.audiences.nodeCount)
            facts = region(AudienceEvaluator.FactValue.self, count: tables.audiences.facts.count)
            history = region(HistorySlot.self, count: tables.optimizations.count)
            verdicts = region(Engine.Verdict.self, count: tables.optimizations.count)
            values = region(PayloadRenderer.Resolution.self, count: tables.payloadProgram.paths.count)
            runs = region(PayloadRenderer.Run.self, count: tables.payloadProgram.substitutions.count)
            keyUnits = region(UInt16.self, count: keyUnitCount)
            byteCount = end
        }

        /// The largest alignment a region needs.
        static let alignment = max(
            MemoryLayout<AudienceEvaluator.FactValue>.alignment, MemoryLayout<HistorySlot>.alignment,
            MemoryLayout<Engine.Verdict>.alignment,
            MemoryLayout<PayloadRenderer.Resolution>.alignment,
            MemoryLayout<PayloadRenderer.Run>.alignment, MemoryLayout<UInt16>.alignment)
    }

    /// Binds and initializes every region; `assignmentKey` fills the key units.
    init(_ memory: UnsafeMutableRawBufferPointer, layout: Layout, assignmentKey: String?) {
        let base = memory.baseAddress.unsafelyUnwrapped
        let tables = layout.tables
        answers = (base + layout.answers).initializeMemory(
            as: UInt8.self, repeating: 0, count: tables.audiences.nodeCount)
        facts = UnsafeMutableBufferPointer(
            start: (base + layout.facts).initializeMemory(
                as: AudienceEvaluator.FactValue.self, repeating: .unknown, count: tables.audiences.facts.count),
            count: tables.audiences.facts.count)
        history = UnsafeMutableBufferPointer(
            start: (base + layout.history).initializeMemory(
                as: HistorySlot.self, repeating: HistorySlot(), count: tables.optimizations.count),
            count: tables.optimizations.count)
        verdicts = (base + layout.verdicts).bindMemory(to: Engine.Verdict.self, capacity: tables.optimizations.count)
        values = UnsafeMutableBufferPointer(
            start: (base + layout.values).initializeMemory(
                as: PayloadRenderer.Resolution.self, repeating: .unresolved, count: tables.payloadProgram.paths.count),
            count: tables.payloadProgram.paths.count)
        runs = (base + layout.runs).initializeMemory(
            as: PayloadRenderer.Run.self, repeating: PayloadRenderer.Run(start: -1, count: 0),
            count: tables.payloadProgram.substitutions.count)
        let units = (base + layout.keyUnits).bindMemory(to: UInt16.self, capacity: layout.keyUnitCount)
        var count = 0
        for unit in (assignmentKey ?? "").utf16 {
            units[count] = unit
            count += 1
        }
        keyUnits = UnsafeBufferPointer(start: units, count: count)
    }

    /// Releases what the regions hold (facts, history positions and resolved values may hold references).
    func deinitialize() {
        facts.deinitialize()
        history.deinitialize()
        values.deinitialize()
    }
}
