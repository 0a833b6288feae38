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
}
