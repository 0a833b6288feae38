import VeneerCore

/// Who sent a page request, as the proxy recognizes them from cookies, headers and the User-Agent.
///
/// ```swift
/// let visitor = Visitor.recognize(headers: facts, settings: config.visitor)
/// visitor.isNewSession  // true on the first request of a visit
/// ```
struct Visitor: Sendable, Hashable {
    var profileId: String
    var isNewProfile: Bool
    var sessionId: String
    var isNewSession: Bool
    var userId: String?
    var device: Device
    var isBot: Bool

    /// Recognizes the visitor. `cookies` are the parsed request cookies; `header` looks a header up by name.
    static func recognize(
        cookies: [String: String], userAgent: String?, header: (String) -> String?, settings: VisitorSettings,
        makeIdentifier: () -> String = Visitor.makeIdentifier
    ) -> Visitor {
        let existingProfile = cookies[settings.profileCookie].flatMap(validIdentifier)
        let existingSession = cookies[settings.sessionCookie].flatMap(validIdentifier)
        var userId: String?
        if !settings.userIdHeader.isEmpty, let value = header(settings.userIdHeader)?.trimmingASCIISpaces(),
            !value.isEmpty
        {
            userId = value
        } else if !settings.userIdCookie.isEmpty, let value = cookies[settings.userIdCookie], !value.isEmpty {
            userId = value
        }
        return Visitor(
            profileId: existingProfile ?? makeIdentifier(),
            isNewProfile: existingProfile == nil,
            sessionId: existingSession ?? makeIdentifier(),
            isNewSession: existingSession == nil,
            userId: userId,
            device: UserAgentClassifier.device(for: userAgent),
            isBot: UserAgentClassifier.isBot(userAgent))
    }

    /// The cookies to send back: the profile cookie when new (two years), the session cookie always, since
    /// its idle timeout rolls with each page.
    func setCookieValues(settings: VisitorSettings) -> [String] {
        var values: [String] = []
        if isNewProfile {
            values.append(
                CookieHeader.setCookie(
                    name: settings.profileCookie, value: profileId, maxAgeSeconds: 2 * 365 * 24 * 3600,
                    secure: settings.secureCookies))
        }
        values.append(
            CookieHeader.setCookie(
                name: settings.sessionCookie, value: sessionId,
                maxAgeSeconds: max(1, settings.sessionIdle.components.seconds), secure: settings.secureCookies))
        return values
    }

    /// A random 128-bit identifier in lower-case hex.
    static func makeIdentifier() -> String {
        hex(RandomPool.next(), RandomPool.next())
    }

    /// 32 lower-case hex digits like `makeIdentifier`, but the first 12 are the time in milliseconds and the
    /// other 80 bits random: ids of events made later sort later, so the store's event-id index grows at its
    /// end instead of taking a write in a random page for every event.
    static func makeEventIdentifier(at milliseconds: Int64) -> String {
        let time = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        return hex(time << 16 | RandomPool.next() & 0xFFFF, RandomPool.next())
    }

    /// Two 64-bit values as 32 lower-case hex digits, most significant first.
    private static func hex(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            for index in 0..<32 {
                let value = index < 16 ? high : low
                let nibble = UInt8(truncatingIfNeeded: value >> (60 - 4 * UInt64(index & 15))) & 0xF
                buffer[index] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
            }
            return 32
        }
    }

    /// Accepts ids that this proxy or a site's SDK could have minted; anything else is replaced.
    static func validIdentifier(_ value: String) -> String? {
        guard (8...128).contains(value.utf8.count) else { return nil }
        let valid = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        return valid ? value : nil
    }
}
