import Foundation
import NIOHTTP1
import Testing
import VeneerCore
import VeneerTestSupport

@testable import VeneerServer

/// Issue 5, point 1: the `file:` origin serves a folder safely.
@Suite("Proxy static file origin", .timeLimit(.minutes(3)))
struct ProxyStaticOriginTests {
    /// A site folder, a secret next to it, and a symlink inside that points at the secret.
    static func makeSite() throws -> (root: String, outside: String) {
        let base = TestScratch.root.appendingPathComponent("veneer-site-\(UUID().uuidString)").path
        let root = base + "/site"
        try FileManager.default.createDirectory(atPath: root + "/docs", withIntermediateDirectories: true)
        try "<!DOCTYPE html><title>Home</title><h1>Home</h1>".write(
            toFile: root + "/index.html", atomically: true, encoding: .utf8)
        try "<p>docs</p>".write(toFile: root + "/docs/index.html", atomically: true, encoding: .utf8)
        try "body { color: red }".write(toFile: root + "/site.css", atomically: true, encoding: .utf8)
        try "{\"a\":1}".write(toFile: root + "/data.json", atomically: true, encoding: .utf8)
        try "SECRET=1".write(toFile: root + "/.env", atomically: true, encoding: .utf8)
        try "top secret".write(toFile: base + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: root + "/escape.txt", withDestinationPath: base + "/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: root + "/outside", withDestinationPath: base)
        let big = String(repeating: "0123456789abcdef", count: 200_000)  // 3.2 MB: streamed in chunks
        try big.write(toFile: root + "/big.txt", atomically: true, encoding: .utf8)
        return (root, base)
    }

    @Test("files get their content type, ETag and Last-Modified; directories their index.html")
    func servesFiles() async throws {
        let site = try Self.makeSite()
        try await ProxyHarness.with(originURL: "file:" + site.root) { harness in
            let home = try await harness.get("/")
            #expect(home.status == 200)
            #expect(home.body.contains("<h1>Home</h1>"))
            #expect(home.headers.first(name: "content-type") == "text/html; charset=utf-8")
            #expect(home.headers.first(name: "etag")?.hasPrefix("\"") == true)
            #expect(home.headers.first(name: "last-modified")?.hasSuffix(" GMT") == true)
            let css = try await harness.get("/site.css")
            #expect(css.headers.first(name: "content-type") == "text/css; charset=utf-8")
            #expect(css.body == "body { color: red }")
            let json = try await harness.get("/data.json")
            #expect(json.headers.first(name: "content-type") == "application/json")
            let docs = try await harness.get("/docs/")
            #expect(docs.body == "<p>docs</p>")
            let docsNoSlash = try await harness.get("/docs?x=1")
            #expect(docsNoSlash.status == 301)
            #expect(docsNoSlash.headers.first(name: "location") == "/docs/?x=1")
            let big = try await harness.get("/big.txt")
            #expect(big.bytes.count == 3_200_000)
            #expect(big.headers.first(name: "content-length") == "3200000")
        }
    }

    @Test("If-None-Match answers 304, HEAD answers the head only")
    func conditionalAndHead() async throws {
        let site = try Self.makeSite()
        try await ProxyHarness.with(originURL: "file:" + site.root) { harness in
            let first = try await harness.get("/site.css")
            let etag = try #require(first.headers.first(name: "etag"))
            let again = try await harness.get("/site.css", headers: [("If-None-Match", etag)])
            #expect(again.status == 304)
            #expect(again.bytes.isEmpty)
            let weak = try await harness.get("/site.css", headers: [("If-None-Match", "\"other\", W/\(etag)")])
            #expect(weak.status == 304)
            let changed = try await harness.get("/site.css", headers: [("If-None-Match", "\"other\"")])
            #expect(changed.status == 200)
            let head = try await harness.get("/site.css", method: .HEAD)
            #expect(head.status == 200)
            #expect(head.headers.first(name: "content-length") == "19")
            #expect(head.bytes.isEmpty)
            let post = try await harness.get("/site.css", method: .POST, body: "x")
            #expect(post.status == 405)
            #expect(post.headers.first(name: "allow") == "GET, HEAD")
        }
    }

    @Test(
        "no path traversal, no symlink escape, no hidden files",
        arguments: [
            "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/docs/../../secret.txt", "/escape.txt",
            "/outside/secret.txt", "/.env", "/%2eenv", "/docs/%00index.html", "/nothing-here.html",
        ])
    func refusesEscapes(path: String) async throws {
        let site = try Self.makeSite()
        try await ProxyHarness.with(originURL: "file:" + site.root) { harness in
            // A raw connection: HTTP client libraries normalize `..` away before sending.
            let connection = try await RawConnection.connect(port: harness.port)
            try await connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await connection.waitFor("\r\n\r\n"))
            try? await Task.sleep(for: .milliseconds(50))
            let text = connection.text
            #expect(text.hasPrefix("HTTP/1.1 404") || text.hasPrefix("HTTP/1.1 400"), "\(path) → \(text.prefix(40))")
            #expect(!text.contains("top secret"))
            #expect(!text.contains("SECRET=1"))
            await connection.close()
        }
    }
}
