// Parameter lists of the statements RelationalStore writes. A batch insert names thousands of parameters,
// so the text is written as bytes: interpolating and joining a string per parameter cost about 1.5 µs per
// inserted row, on the reporter's thread.

/// `$start, $start+1, …` for `count` values.
func placeholders(_ count: Int, from start: Int) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count * 6)
    appendPlaceholders(count, from: start, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
}

/// `($1, …, $columns), ($columns+1, …), …`: the VALUES list of a many-row statement whose binds are its rows'
/// values in order.
func placeholderRows(_ rows: Int, columns: Int) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(rows * (columns * 7 + 4))
    for row in 0..<rows {
        if row > 0 {
            bytes.append(UInt8(ascii: ","))
            bytes.append(UInt8(ascii: " "))
        }
        bytes.append(UInt8(ascii: "("))
        appendPlaceholders(columns, from: row * columns + 1, to: &bytes)
        bytes.append(UInt8(ascii: ")"))
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func appendPlaceholders(_ count: Int, from start: Int, to bytes: inout [UInt8]) {
    for index in 0..<count {
        if index > 0 {
            bytes.append(UInt8(ascii: ","))
            bytes.append(UInt8(ascii: " "))
        }
        bytes.append(UInt8(ascii: "$"))
        var number = start + index
        var divisor = 1
        while divisor <= number / 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(number / divisor))
            number %= divisor
            divisor /= 10
        }
    }
}

/// `0..<count` cut into runs whose lengths are powers of two, longest first and none longer than `largest`
/// (itself a power of two). A statement's text grows with its row count, and SQLite keeps a prepared statement
/// per text: runs of few lengths let a batch of any size reuse a handful of them instead of parsing a new one.
func powerOfTwoRuns(_ count: Int, largest: Int) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var start = 0
    while start < count {
        var length = largest
        while length > count - start { length /= 2 }
        runs.append(start..<start + length)
        start += length
    }
    return runs
}
