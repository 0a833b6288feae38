import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Maps a request URI to a file inside one folder, refusing every way out of it. Blocking (it calls
/// `realpath` and `stat`): run it on a thread pool.
///
/// ```swift
/// let outcome = try StaticFileResolver(root: "/srv/site").resolve(uri: "/products/?x=1", wholeFileLimit: 1 << 20)
/// ```
struct StaticFileResolver {
    enum Outcome: Sendable {
        case file(ResolvedFile)
        case directoryWithoutSlash(location: String)
        case notFound
        case badRequest
    }

    struct ResolvedFile: Sendable {
        var path: String
        var size: Int
        var etag: String
        var lastModified: String
        /// The whole file when it is small enough to read at once.
        var contents: ByteBuffer?
    }

    let root: String

    func resolve(uri: String, wholeFileLimit: Int) throws -> Outcome {
        let rawPath =
            uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        let query = uri.firstIndex(of: "?").map { String(uri[$0...]) } ?? ""
        guard rawPath.hasPrefix("/"), let decoded = rawPath.removingPercentEncoding,
            !decoded.utf8.contains(0), !decoded.contains("\\")
        else { return .badRequest }
        var segments: [String] = []
        for segment in decoded.split(separator: "/", omittingEmptySubsequences: true) {
            // ".." escapes, "." is noise, and hidden files (.env, .git) are never published.
            if segment.hasPrefix(".") { return segment == "." ? .badRequest : .notFound }
            segments.append(String(segment))
        }
        guard let realRoot = Self.realPath(root) else { return .notFound }
        var candidate = realRoot + (segments.isEmpty ? "" : "/" + segments.joined(separator: "/"))
        guard var info = Self.status(candidate) else { return .notFound }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if !decoded.hasSuffix("/") { return .directoryWithoutSlash(location: rawPath + "/" + query) }
            candidate += "/index.html"
            guard let indexInfo = Self.status(candidate) else { return .notFound }
            info = indexInfo
        }
        // A symlink anywhere on the way may point outside: compare the real path with the real root.
        guard let real = Self.realPath(candidate), real.hasPrefix(realRoot + "/") else { return .notFound }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .notFound }
        let size = Int(info.st_size)
        let modified = Int64(info.st_mtim.tv_sec)
        let etag =
            "\"\(String(size, radix: 16))-\(String(modified, radix: 16))-\(String(Int64(info.st_mtim.tv_nsec), radix: 16))\""
        var contents: ByteBuffer?
        if size <= wholeFileLimit {
            guard let data = FileManager.default.contents(atPath: real) else { return .notFound }
            contents = ByteBuffer(bytes: data)
        }
        return .file(
            ResolvedFile(
                path: real, size: contents?.readableBytes ?? size, etag: etag,
                lastModified: Self.httpDate(seconds: modified), contents: contents))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// IMF-fixdate (RFC 9110 §5.6.7).
    static func httpDate(seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}

/// Content types by file extension, for the files a web site publishes.
enum StaticFileContentTypes {
    static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8", "json": "application/json", "map": "application/json",
        "txt": "text/plain; charset=utf-8", "xml": "application/xml", "svg": "image/svg+xml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
        "avif": "image/avif", "ico": "image/x-icon", "woff": "font/woff", "woff2": "font/woff2", "ttf": "font/ttf",
        "otf": "font/otf", "pdf": "application/pdf", "mp4": "video/mp4", "webm": "video/webm",
        "mp3": "audio/mpeg", "wasm": "application/wasm", "webmanifest": "application/manifest+json",
        "csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8",
    ]

    /// Whether a request path names a file that is never a page (a style sheet, script, image, font…): such
    /// requests skip the visitor and the decision, since their answers are never personalized.
    static func isAsset(path: String) -> Bool {
        // Every routed request asks this: the last segment's extension is read without splitting the path.
        guard let fileExtension = fileExtension(of: path) else { return false }
        return assetExtensions.contains(fileExtension)
    }

    /// The extensions of `byExtension` whose files are never pages, found once rather than per request.
    private static let assetExtensions = Set(byExtension.compactMap { $0.value.hasPrefix("text/html") ? nil : $0.key })

    /// The lower-cased extension of the path's last segment (`/a/b.CSS` → `css`); nil without one, or when
    /// the path ends with `/`.
    static func fileExtension(of path: String) -> String? {
        let utf8 = path.utf8
        var index = utf8.endIndex
        while index > utf8.startIndex {
            let previous = utf8.index(before: index)
            switch utf8[previous] {
            case UInt8(ascii: "/"):
                return nil
            case UInt8(ascii: "."):
                return path[index...].lowercased()
            default:
                index = previous
            }
        }
        return nil
    }

    static func contentType(forPath path: String) -> String {
        fileExtension(of: path).flatMap { byExtension[$0] } ?? "application/octet-stream"
    }
}
