extension VeneerConfig {
    /// The one-line summary `veneer check` prints for a valid file.
    ///
    /// ```swift
    /// config.summary  // "2 routes, 1 personalization, 1 experiment, 3 experiences, 2 variants, 1 segment, 2 templates"
    /// ```
    public var summary: String {
        let personalizations = optimizations.filter { $0.kind == .personalization }
        let experiments = optimizations.filter { $0.kind == .experiment }
        let parts = [
            Self.count(routes.count, "route"),
            Self.count(personalizations.count, "personalization"),
            Self.count(experiments.count, "experiment"),
            Self.count(personalizations.reduce(0) { $0 + $1.arms.count }, "experience"),
            Self.count(experiments.reduce(0) { $0 + $1.arms.count }, "variant"),
            Self.count(segments.count, "segment"),
            Self.count(templates.count, "template"),
        ]
        return parts.joined(separator: ", ")
    }

    private static func count(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
