/// Byte sizes in proxy.conf: plain bytes (`65536` or `"65536"`) or a number and a unit: B, KB, MB, GB
/// (powers of 1000) and KiB, MiB, GiB (powers of 1024).
///
/// ```swift
/// ByteSize.parse("8MiB")  // 8_388_608
/// ```
enum ByteSize {
    static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        let digits = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(digits.count).trimmingPrefix(" ")
        guard !digits.isEmpty, let number = Double(digits), let multiplier = multipliers[String(unit)] else {
            return nil
        }
        let bytes = number * multiplier
        guard bytes.isFinite, bytes >= 0, bytes < Double(Int.max / 2), bytes == bytes.rounded() else { return nil }
        return Int(bytes)
    }

    private static let multipliers: [String: Double] = [
        "": 1, "B": 1, "KB": 1000, "MB": 1_000_000, "GB": 1_000_000_000,
        "KiB": 1024, "MiB": 1024 * 1024, "GiB": 1024 * 1024 * 1024,
    ]

    static let formHint = "bytes, or a number and a unit: 512KiB, 8MiB, 1GiB (or KB, MB, GB)"
}
