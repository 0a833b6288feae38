import Foundation
import VeneerCore

extension Consent {
    /// `validUntil` as an instant in milliseconds since 1970; nil when the consent does not expire.
    ///
    /// The SDKs disagree on the form (INTEMPT-API.md §1.2), so each is read as what it can only be:
    /// - absent, empty or `"unlimited"`: no end;
    /// - an ISO 8601 date or instant (`2027-01-01`, `2027-01-01T00:00:00Z`);
    /// - a number (or digits in a string) of at least 10^12: epoch milliseconds (js, android);
    /// - at least 10^9: epoch seconds (node, python, php);
    /// - smaller: a duration in seconds from the consent's own timestamp (swift's `31536000`, a year) — no
    ///   epoch instant that small is a plausible end of a consent given after 2001.
    ///
    /// ```swift
    /// Consent(action: .reject, timestamp: 1_780_000_000_000, validUntil: "31536000").expiresAt
    /// // 1_811_536_000_000
    /// ```
    public var expiresAt: Int64? {
        (try? Self.expiry(of: validUntil, from: timestamp)) ?? nil
    }

    /// What `expiresAt` reads, or an error that says which forms are accepted.
    public static func expiry(of validUntil: String?, from timestamp: Int64) throws(StoreError) -> Int64? {
        guard let raw = validUntil?.trimmingCharacters(in: .whitespaces), !raw.isEmpty,
            raw.lowercased() != "unlimited"
        else { return nil }
        if raw.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(raw), number.isFinite {
            let whole = number.rounded(.down)
            switch whole {
            case 1e12...: return whole < 9.2e18 ? Int64(whole) : nil
            case 1e9...: return Int64(whole) * 1000
            default: return timestamp + Int64(whole) * 1000
            }
        }
        if let date = ISO8601Instant.parse(raw) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        throw StoreError(
            code: "bad-valid-until",
            message:
                "validUntil must be \"unlimited\", an ISO 8601 date (2027-01-01 or 2027-01-01T00:00:00Z), epoch seconds or milliseconds, or a duration in seconds; got \"\(raw)\""
        )
    }

    /// The instant a reject stops holding, for the person's `opted_out_until`: `Int64.max` when it never does.
    var optedOutUntil: Int64 {
        guard action == .reject else { return 0 }
        return expiresAt ?? Int64.max
    }
}
