import Foundation
import VeneerCore

/// Checks an API key the two ways Intempt clients send one: `Authorization: Basic base64(prefix:secret)`, or
/// the legacy `?apiKey=prefix.secret` (node 1.x sends only that).
struct APIAuthenticator: Sendable {
    let keys: [APIKey]

    func isAuthorized(authorization: String?, apiKeyParameter: String?) -> Bool {
        if let authorization, let (prefix, secret) = Self.basicCredentials(authorization), matches(prefix, secret) {
            return true
        }
        if let apiKeyParameter, let dot = apiKeyParameter.firstIndex(of: ".") {
            let prefix = String(apiKeyParameter[..<dot])
            let secret = String(apiKeyParameter[apiKeyParameter.index(after: dot)...])
            if matches(prefix, secret) { return true }
        }
        return false
    }

    private func matches(_ prefix: String, _ secret: String) -> Bool {
        // Every key is compared in full, so timing does not tell which part was wrong.
        var found = false
        for key in keys where !key.secret.isEmpty {
            let idMatches = Self.constantTimeEqual(key.id, prefix)
            let secretMatches = Self.constantTimeEqual(key.secret, secret)
            if idMatches && secretMatches { found = true }
        }
        return found
    }

    static func basicCredentials(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}
