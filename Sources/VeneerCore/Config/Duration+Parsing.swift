extension Duration {
    /// Reads proxy.conf durations: a number and a unit, optionally repeated (`100ms`, `2s`, `30m`, `12h`, `7d`,
    /// `2w`, `1h30m`). Units: ms, s, m, h, d, w. Returns nil for anything else, including a bare number.
    ///
    /// ```swift
    /// Duration(configText: "1h30m")  // .seconds(5400)
    /// ```
    init?(configText text: String) {
        let scalars = Array(text.trimmingSpaces.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        var totalMilliseconds: Double = 0
        var index = 0
        while index < scalars.count {
            let numberStart = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." { index += 1 }
            guard index > numberStart,
                let number = Double(String(String.UnicodeScalarView(scalars[numberStart..<index])))
            else { return nil }
            let unitStart = index
            while index < scalars.count, ("a"..."z").contains(scalars[index]) { index += 1 }
            let unit = String(String.UnicodeScalarView(scalars[unitStart..<index]))
            guard let milliseconds = Self.unitMilliseconds[unit] else { return nil }
            totalMilliseconds += number * milliseconds
        }
        guard totalMilliseconds.isFinite, totalMilliseconds < 1e15 else { return nil }
        self = .microseconds(Int64((totalMilliseconds * 1000).rounded()))
    }

    private static let unitMilliseconds: [String: Double] = [
        "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000,
    ]

    /// Whole seconds, rounded down; what windows in the model are counted in.
    var wholeSeconds: Int64 { components.seconds }

    static let configFormHint = "a number and a unit: 100ms, 2s, 30m, 12h, 7d, 2w (or combined: 1h30m)"
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}
