public import Foundation

/// Where pages come from, parsed once from `origin.url`: a static folder or an HTTP(S) server.
///
/// ```swift
/// let target = try OriginTarget(url: "http://127.0.0.1:3000")
/// target.hostHeader  // "127.0.0.1:3000"
/// ```
public enum OriginTarget: Sendable, Hashable, CustomStringConvertible {
    case http(HTTPOrigin)
    /// A folder served by `StaticFileOrigin`; the path is absolute.
    case folder(String)

    /// An HTTP or HTTPS server and the path prefix that requests are sent under.
    public struct HTTPOrigin: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var isTLS: Bool
        /// Prepended to every request path (`http://h/app` → `/app/…`); empty or without a trailing `/`.
        public var basePath: String

        /// The `Host` header for requests when the client's is not preserved.
        public var hostHeader: String {
            let defaultPort = isTLS ? 443 : 80
            let bracketed = host.contains(":") ? "[\(host)]" : host
            return port == defaultPort ? bracketed : "\(bracketed):\(port)"
        }
    }

    /// Parses `file:demo/site`, `http://host:port` or `https://host`. A relative folder resolves against
    /// `relativeTo` (the folder of proxy.conf).
    public init(
        url: String, relativeTo folder: String = FileManager.default.currentDirectoryPath
    ) throws(OriginTargetError) {
        if url.hasPrefix("file:") {
            var path = String(url.dropFirst(5))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw OriginTargetError(url: url, message: "a file origin needs a folder") }
            if !path.hasPrefix("/") {
                path = URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
            }
            while path.count > 1, path.hasSuffix("/") { path.removeLast() }
            self = .folder(path)
            return
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw OriginTargetError(
                url: url, message: "expected file:FOLDER, http://host[:port] or https://host[:port]")
        }
        let isTLS = scheme == "https"
        var basePath = components.percentEncodedPath
        while basePath.hasSuffix("/") { basePath.removeLast() }
        self = .http(
            HTTPOrigin(host: host, port: components.port ?? (isTLS ? 443 : 80), isTLS: isTLS, basePath: basePath))
    }

    public var description: String {
        switch self {
        case .http(let origin):
            return "\(origin.isTLS ? "https" : "http")://\(origin.hostHeader)\(origin.basePath)"
        case .folder(let path):
            return "file:\(path)"
        }
    }
}

/// `origin.url` could not be understood.
public struct OriginTargetError: Error, Sendable, Hashable, CustomStringConvertible {
    public var url: String
    public var message: String

    public var description: String { "origin.url \"\(url)\": \(message)" }
}
