/// GrowthBook-compatible deterministic bucketing, so anyone can reproduce an assignment.
///
/// Source of the algorithm and its test vectors: growthbook/growthbook `packages/sdk-js/src/util.ts`
/// (MIT): FNV-1a 32-bit over UTF-16 code units; hash v1 = `fnv(value + seed) % 1000 / 1000`, hash v2 =
/// `fnv(String(fnv(seed + value))) % 10000 / 10000`.
///
/// ```swift
/// let n = Bucketing.hash(seed: "checkout-cta:1", value: "user-42", version: 2)  // 0.0…<1.0
/// let ranges = Bucketing.bucketRanges(count: 2, coverage: 1, weights: [0.5, 0.5])
/// let arm = Bucketing.chooseVariation(n!, ranges: ranges)  // 0 or 1
/// ```
public enum Bucketing {
    static let fnvOffsetBasis: UInt32 = 0x811c_9dc5
    static let fnvPrime: UInt32 = 0x0100_0193

    /// Continues FNV-1a, 32 bits, over the UTF-16 code units of `text` (as JavaScript strings hash).
    static func fnv1a32(_ text: String, continuing hash: UInt32 = fnvOffsetBasis) -> UInt32 {
        var hash = hash
        // ASCII text has the same code units in UTF-8 and UTF-16, and the UTF-8 view is the fast one.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in text.utf8 {
                hash ^= UInt32(byte)
                hash = hash &* fnvPrime
            }
            return hash
        }
        for unit in text.utf16 {
            hash ^= UInt32(unit)
            hash = hash &* fnvPrime
        }
        return hash
    }

    /// FNV-1a over the decimal digits of `number`, without building the string. Each digit comes from its own
    /// division by a constant (a multiply), so the digits do not wait on one another; leading zeros are skipped.
    static func fnv1a32(decimalDigitsOf number: UInt32) -> UInt32 {
        var hash = fnvOffsetBasis
        var started = false
        func add(_ digit: UInt32) {
            guard started || digit != 0 else { return }
            started = true
            hash ^= 48 + digit
            hash = hash &* fnvPrime
        }
        add(number / 1_000_000_000)
        add(number / 100_000_000 % 10)
        add(number / 10_000_000 % 10)
        add(number / 1_000_000 % 10)
        add(number / 100_000 % 10)
        add(number / 10_000 % 10)
        add(number / 1_000 % 10)
        add(number / 100 % 10)
        add(number / 10 % 10)
        started = true  // the last digit counts even when it is the only one, a zero
        add(number % 10)
        return hash
    }

    /// A number in `0..<1`, or nil for an unknown hash version.
    public static func hash(seed: String, value: String, version: Int) -> Double? {
        switch version {
        case 1:
            return Double(fnv1a32(seed, continuing: fnv1a32(value)) % 1000) / 1000
        case 2:
            let first = fnv1a32(value, continuing: fnv1a32(seed))
            return Double(fnv1a32(decimalDigitsOf: first) % 10000) / 10000
        default:
            return nil
        }
    }

    /// Hash v2 with the seed's FNV state computed once (`fnv1a32(seed)`) and the value already split into UTF-16
    /// code units: the engine splits the assignment key once per call and hashes it once per optimization.
    static func hashVersion2(seedState: UInt32, units: UnsafeBufferPointer<UInt16>) -> Double {
        var hash = seedState
        for unit in units {
            hash ^= UInt32(unit)
            hash = hash &* fnvPrime
        }
        return Double(fnv1a32(decimalDigitsOf: hash) % 10000) / 10000
    }

    /// Equal weights summing to 1.
    public static func equalWeights(count: Int) -> [Double] {
        guard count > 0 else { return [] }
        return Array(repeating: 1 / Double(count), count: count)
    }

    /// Half-open ranges `[start, end)` for each variation, scaled by `coverage` (0…1). Weights that do not
    /// match the count or do not sum to about 1 fall back to equal weights, as GrowthBook does.
    public static func bucketRanges(count: Int, coverage: Double, weights: [Double]?) -> [ClosedRange<Double>] {
        let coverage = min(max(coverage, 0), 1)
        var effective = weights ?? equalWeights(count: count)
        if effective.count != count {
            effective = equalWeights(count: count)
        }
        let total = effective.reduce(0, +)
        if total < 0.99 || total > 1.01 {
            effective = equalWeights(count: count)
        }
        var cumulative = 0.0
        return effective.map { weight in
            let start = cumulative
            cumulative += weight
            return start...(start + coverage * weight)
        }
    }

    /// The index whose range holds `n` (start inclusive, end exclusive), or -1 when none does.
    public static func chooseVariation(_ n: Double, ranges: [ClosedRange<Double>]) -> Int {
        for (index, range) in ranges.enumerated() where n >= range.lowerBound && n < range.upperBound {
            return index
        }
        return -1
    }

    /// The seed for an optimization: its selector and bucket version, so raising the version re-buckets.
    public static func seed(selector: String, bucketVersion: Int) -> String {
        "\(selector):\(bucketVersion)"
    }
}
