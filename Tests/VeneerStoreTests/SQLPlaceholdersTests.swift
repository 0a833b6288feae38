import Testing

@testable import VeneerStore

@Suite("SQL placeholders")
struct SQLPlaceholdersTests {
    /// The obvious spelling, which the byte-writing one must match.
    private static func reference(_ count: Int, from start: Int) -> String {
        (0..<count).map { "$\(start + $0)" }.joined(separator: ", ")
    }

    @Test(arguments: [(0, 1), (1, 1), (3, 8), (15, 1), (12, 95), (5, 998), (4, 9_998), (2, 123_456)])
    func aListCountsUpAcrossDigitBoundaries(count: Int, start: Int) {
        #expect(placeholders(count, from: start) == Self.reference(count, from: start))
    }

    @Test(arguments: [(1, 15), (2, 8), (7, 6), (200, 15)])
    func rowsNumberTheirValuesInOrder(rows: Int, columns: Int) {
        let expected = (0..<rows).map { "(\(Self.reference(columns, from: $0 * columns + 1)))" }
            .joined(separator: ", ")
        #expect(placeholderRows(rows, columns: columns) == expected)
    }

    @Test func noRowsIsEmpty() {
        #expect(placeholderRows(0, columns: 15) == "")
    }

    /// Runs cover the batch in order without gaps, each a power of two no longer than the largest allowed, and
    /// a batch of any size needs few distinct lengths (each a prepared statement SQLite keeps).
    @Test(arguments: [0, 1, 2, 3, 7, 8, 127, 128, 200, 255, 256, 257, 1000, 4097])
    func runsArePowersOfTwoInOrder(count: Int) {
        let runs = powerOfTwoRuns(count, largest: 256)
        #expect(runs.first?.lowerBound ?? 0 == 0)
        #expect(runs.last?.upperBound ?? 0 == count)
        for (previous, next) in zip(runs, runs.dropFirst()) {
            #expect(previous.upperBound == next.lowerBound)
            #expect(previous.count >= next.count, "longest first")
        }
        for run in runs {
            #expect(run.count <= 256)
            #expect(run.count > 0 && run.count & (run.count - 1) == 0, "\(run.count) is a power of two")
        }
        // Past the runs of the largest length, each shorter length shows at most once.
        let shorter = runs.map(\.count).filter { $0 < 256 }
        #expect(Set(shorter).count == shorter.count)
    }
}
