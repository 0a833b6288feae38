import VeneerCore

/// Reads the device class and bot-ness from a `User-Agent`. Substring rules, checked on the lower-cased
/// agent; tablets count as mobile, since the model has only mobile and desktop.
///
/// ```swift
/// UserAgentClassifier.device(for: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) …")  // .mobile
/// UserAgentClassifier.isBot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")  // true
/// ```
enum UserAgentClassifier {
    static let mobileMarkers = [
        "mobi", "iphone", "ipod", "ipad", "android", "windows phone", "blackberry", "bb10", "opera mini", "iemobile",
        "silk/", "kindle", "webos", "tablet",
    ]

    /// Crawler, preview and monitoring agents (common tokens from the agents' own documentation); generic
    /// words catch the long tail. Command-line clients such as curl are people, not bots.
    static let botMarkers = [
        "bot", "crawl", "spider", "slurp", "bingpreview", "facebookexternalhit", "facebookcatalog", "embedly",
        "quora link preview", "pinterest", "vkshare", "w3c_validator", "headlesschrome", "lighthouse",
        "pingdom", "uptimerobot", "google-inspectiontool", "mediapartners-google", "apis-google", "feedfetcher",
        "yandex", "baiduspider", "duckduckgo", "ia_archiver", "petalbot", "semrush", "ahrefs", "mj12bot",
        "whatsapp", "skypeuripreview", "preview", "validator", "monitor", "scraper", "phantomjs", "prerender",
        "chrome-lighthouse", "gtmetrix", "statuscake", "newrelicpinger", "datadog",
    ]

    static func device(for userAgent: String?) -> Device {
        guard let userAgent, !userAgent.isEmpty else { return .desktop }
        let lowered = userAgent.lowercased()
        return mobileMarkers.contains { lowered.contains($0) } ? .mobile : .desktop
    }

    static func isBot(_ userAgent: String?) -> Bool {
        guard let userAgent, !userAgent.isEmpty else { return false }
        let lowered = userAgent.lowercased()
        return botMarkers.contains { lowered.contains($0) }
    }
}
