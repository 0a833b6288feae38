import Foundation

/// The plain tables of proxy.conf: server, origin, project, visitor, decision, store, events, redirects,
/// API keys and routes.
extension ConfigBuilder {
    static let topLevelKeys = [
        "server", "origin", "project", "visitor", "decision", "store", "events", "redirects", "api_key", "route",
        "segment", "personalization", "experiment",
    ]

    mutating func readServer(_ node: ConfigNode?) -> (settings: ServerSettings, templates: String) {
        let path = ConfigPath.root.appending("server")
        var settings = ServerSettings()
        var templates = "templates"
        guard let table = table(node, at: path) else { return (settings, resolve(templates)) }
        checkKeys(table, at: path, allowed: ["listen", "api_listen", "debug_header", "idle_timeout", "templates"])
        if let listen = hostAndPort(table["listen"], at: path.appending("listen")) { settings.listen = listen }
        if let listen = hostAndPort(table["api_listen"], at: path.appending("api_listen")) {
            settings.apiListen = listen
        }
        if let debug = bool(table["debug_header"], at: path.appending("debug_header")) { settings.debugHeader = debug }
        if let timeout = duration(table["idle_timeout"], at: path.appending("idle_timeout")) {
            settings.idleTimeout = timeout
        }
        if let folder = string(table["templates"], at: path.appending("templates")) {
            if folder.isEmpty {
                error(path.appending("templates"), "must name a folder; the default is \"templates\"")
            } else {
                templates = folder
            }
        }
        return (settings, resolve(templates))
    }

    mutating func hostAndPort(_ node: ConfigNode?, at path: ConfigPath) -> HostAndPort? {
        guard let text = string(node, at: path) else { return nil }
        let hint = "allowed: \"host:port\" such as \"127.0.0.1:8080\" or \"[::1]:8080\", port 0–65535"
        var host: Substring
        var portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                error(path, "invalid listen address \"\(text)\"; \(hint)")
                return nil
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                error(path, "invalid listen address \"\(text)\": no port; \(hint)")
                return nil
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty, !host.contains(" ") else {
            error(path, "invalid listen address \"\(text)\"; \(hint)")
            return nil
        }
        return HostAndPort(host: String(host), port: port)
    }

    mutating func readOrigin(_ node: ConfigNode?) -> OriginSettings {
        let path = ConfigPath.root.appending("origin")
        var settings = OriginSettings()
        let table = table(node, at: path) ?? [:]
        checkKeys(
            table, at: path,
            allowed: [
                "url", "connect_timeout", "timeout", "max_html_bytes", "preserve_host", "max_idle_connections_per_loop",
                "tls_ca_file", "tls_server_name",
            ]
        )
        let url = string(table["url"], at: path.appending("url")) ?? settings.url
        if let resolved = originURL(url, at: path.appending("url")) { settings.url = resolved }
        if let value = duration(table["connect_timeout"], at: path.appending("connect_timeout")) {
            settings.connectTimeout = value
        }
        if let value = duration(table["timeout"], at: path.appending("timeout")) { settings.timeout = value }
        if let value = byteSize(table["max_html_bytes"], at: path.appending("max_html_bytes")) {
            settings.maxHTMLBytes = value
        }
        if let value = bool(table["preserve_host"], at: path.appending("preserve_host")) {
            settings.preserveHost = value
        }
        if let value = integer(
            table["max_idle_connections_per_loop"], at: path.appending("max_idle_connections_per_loop"),
            range: 0...Int.max
        ) {
            settings.maxIdleConnectionsPerLoop = value
        }
        if let file = string(table["tls_ca_file"], at: path.appending("tls_ca_file")), !file.isEmpty {
            let absolute = resolve(file)
            if !FileManager.default.fileExists(atPath: absolute) {
                error(path.appending("tls_ca_file"), "certificate file \(absolute) does not exist")
            } else if let contents = FileManager.default.contents(atPath: absolute),
                !String(decoding: contents, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----")
            {
                error(
                    path.appending("tls_ca_file"), "\(absolute) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
            } else {
                settings.tlsCAFile = absolute
            }
        }
        if let name = string(table["tls_server_name"], at: path.appending("tls_server_name")) {
            if name.contains(where: { $0 == " " || $0 == "/" || $0 == ":" }) {
                error(path.appending("tls_server_name"), "\"\(name)\" is not a host name")
            } else {
                settings.tlsServerName = name
            }
        }
        let isHTTPS = settings.url.lowercased().hasPrefix("https:")
        if !isHTTPS, !settings.tlsCAFile.isEmpty || !settings.tlsServerName.isEmpty {
            error(
                path.appending(settings.tlsCAFile.isEmpty ? "tls_server_name" : "tls_ca_file"),
                "only an https origin uses TLS settings; origin.url is \(settings.url)")
        }
        return settings
    }

    /// `file:FOLDER` becomes `file:/absolute/folder` (which must exist); http and https URLs need a host.
    mutating func originURL(_ url: String, at path: ConfigPath) -> String? {
        let allowed = "allowed: \"file:FOLDER\" (relative to proxy.conf), \"http://host:port\" or \"https://host\""
        if url.hasPrefix("file:") {
            var folder = String(url.dropFirst(5))
            if folder.hasPrefix("//") { folder = String(folder.dropFirst(2)) }
            guard !folder.isEmpty else {
                error(path, "\"file:\" names no folder; \(allowed)")
                return nil
            }
            let absolute = resolve(folder)
            guard Self.isDirectory(absolute) else {
                error(path, "origin folder \(absolute) does not exist")
                return nil
            }
            return "file:" + absolute
        }
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = parsed.host, !host.isEmpty
        else {
            error(path, "invalid origin URL \"\(url)\"; \(allowed)")
            return nil
        }
        return url
    }

    mutating func readProject(_ node: ConfigNode?) -> ProjectSettings {
        let path = ConfigPath.root.appending("project")
        var settings = ProjectSettings()
        guard let table = table(node, at: path) else { return settings }
        checkKeys(table, at: path, allowed: ["org", "project", "source_id", "time_zone"])
        if let value = string(table["org"], at: path.appending("org")) { settings.org = value }
        if let value = string(table["project"], at: path.appending("project")) { settings.project = value }
        if let node = table["source_id"] {
            if case .integer(let integer) = node {
                settings.sourceId = String(integer)
            } else if let value = string(node, at: path.appending("source_id")) {
                settings.sourceId = value
            }
        }
        if let name = string(table["time_zone"], at: path.appending("time_zone")) {
            if let zone = TimeZone(identifier: name), name.contains("/") || ["UTC", "GMT"].contains(name) {
                settings.timeZone = zone
            } else {
                error(
                    path.appending("time_zone"),
                    "unknown time zone \"\(name)\"; use an IANA name such as \"UTC\", \"Europe/Berlin\" or \"America/New_York\""
                )
            }
        }
        return settings
    }

    mutating func readVisitor(_ node: ConfigNode?) -> VisitorSettings {
        let path = ConfigPath.root.appending("visitor")
        var settings = VisitorSettings()
        guard let table = table(node, at: path) else { return settings }
        checkKeys(
            table, at: path,
            allowed: [
                "profile_cookie", "session_cookie", "session_idle", "user_id_header", "user_id_cookie",
                "country_header",
                "secure_cookies", "bots", "autotrack",
            ]
        )
        if let value = cookieName(table["profile_cookie"], at: path.appending("profile_cookie"), required: true) {
            settings.profileCookie = value
        }
        if let value = cookieName(table["session_cookie"], at: path.appending("session_cookie"), required: true) {
            settings.sessionCookie = value
        }
        if settings.profileCookie == settings.sessionCookie {
            error(path.appending("session_cookie"), "the session cookie must differ from the profile cookie")
        }
        if let value = duration(table["session_idle"], at: path.appending("session_idle")) {
            settings.sessionIdle = value
        }
        if let value = headerName(table["user_id_header"], at: path.appending("user_id_header")) {
            settings.userIdHeader = value
        }
        if let value = cookieName(table["user_id_cookie"], at: path.appending("user_id_cookie"), required: false) {
            settings.userIdCookie = value
        }
        if let value = headerName(table["country_header"], at: path.appending("country_header")) {
            settings.countryHeader = value
        }
        if let value = bool(table["secure_cookies"], at: path.appending("secure_cookies")) {
            settings.secureCookies = value
        }
        if let value = string(table["bots"], at: path.appending("bots")) {
            if let policy = VisitorSettings.BotPolicy(rawValue: value) {
                settings.bots = policy
            } else {
                error(path.appending("bots"), "unknown bot policy \"\(value)\"; allowed: original, personalize")
            }
        }
        if let value = bool(table["autotrack"], at: path.appending("autotrack")) { settings.autotrack = value }
        return settings
    }

    /// RFC 6265 cookie names are RFC 7230 tokens.
    mutating func cookieName(_ node: ConfigNode?, at path: ConfigPath, required: Bool) -> String? {
        guard let name = string(node, at: path) else { return nil }
        if name.isEmpty, !required { return name }
        guard Self.isToken(name) else {
            error(path, "invalid cookie name \"\(name)\"; use letters, digits and !#$%&'*+-.^_`|~")
            return nil
        }
        return name
    }

    mutating func headerName(_ node: ConfigNode?, at path: ConfigPath) -> String? {
        guard let name = string(node, at: path) else { return nil }
        guard name.isEmpty || Self.isToken(name) else {
            error(path, "invalid header name \"\(name)\"; use letters, digits and -, or \"\" for none")
            return nil
        }
        return name
    }

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && scalar.value > 32 && scalar.value < 127
                    && !"()<>@,;:\\\"/[]?={}".unicodeScalars.contains(scalar)
            }
    }

    mutating func readDecision(_ node: ConfigNode?) -> DecisionSettings {
        let path = ConfigPath.root.appending("decision")
        var settings = DecisionSettings()
        guard let table = table(node, at: path) else { return settings }
        checkKeys(table, at: path, allowed: ["budget"])
        if let value = duration(table["budget"], at: path.appending("budget")) { settings.budget = value }
        return settings
    }

    mutating func readStore(_ node: ConfigNode?) -> StoreSettings {
        let path = ConfigPath.root.appending("store")
        var settings = StoreSettings()
        settings.url = storeURL(settings.url)
        guard let table = table(node, at: path) else { return settings }
        checkKeys(table, at: path, allowed: ["url"])
        guard let written = string(table["url"], at: path.appending("url")),
            let url = secret(written, at: path.appending("url"))
        else { return settings }
        let lowered = url.lowercased()
        if lowered.hasPrefix("sqlite:") {
            guard url.count > "sqlite:".count else {
                error(path.appending("url"), "\"sqlite:\" names no file; write sqlite:data/veneer.sqlite")
                return settings
            }
            settings.url = storeURL(url)
        } else if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: url), components.host?.isEmpty == false else {
                error(
                    path.appending("url"), "invalid PostgreSQL URL; write postgres://user:password@host:5432/database")
                return settings
            }
            settings.url = url
        } else {
            error(
                path.appending("url"),
                "unknown store URL; allowed: \"sqlite:FILE\" (relative to proxy.conf) or \"postgres://user:password@host:5432/database\""
            )
        }
        return settings
    }

    /// A relative SQLite file is read relative to proxy.conf, like every other path in it.
    func storeURL(_ url: String) -> String {
        let file = String(url.dropFirst("sqlite:".count))
        guard url.hasPrefix("sqlite:"), !file.hasPrefix("/"), !file.hasPrefix(":") else { return url }
        return "sqlite:" + resolve(file)
    }

    mutating func readEvents(_ node: ConfigNode?) -> EventSettings {
        let path = ConfigPath.root.appending("events")
        var settings = EventSettings()
        settings.spoolDirectory = resolve(settings.spoolDirectory)
        guard let table = table(node, at: path) else { return settings }
        checkKeys(
            table, at: path,
            allowed: ["batch_size", "batch_interval", "queue_limit", "spool_dir", "forward_url", "forward_key"]
        )
        if let value = integer(table["batch_size"], at: path.appending("batch_size"), range: 1...100_000) {
            settings.batchSize = value
        }
        if let value = duration(table["batch_interval"], at: path.appending("batch_interval")) {
            settings.batchInterval = value
        }
        if let value = integer(table["queue_limit"], at: path.appending("queue_limit"), range: 1...Int.max) {
            settings.queueLimit = value
        }
        if let value = string(table["spool_dir"], at: path.appending("spool_dir")) {
            if value.isEmpty {
                error(path.appending("spool_dir"), "must name a folder, such as \"data/spool\"")
            } else {
                settings.spoolDirectory = resolve(value)
            }
        }
        if let value = string(table["forward_url"], at: path.appending("forward_url")), !value.isEmpty {
            if let components = URLComponents(string: value),
                ["http", "https"].contains(components.scheme?.lowercased()),
                components.host?.isEmpty == false
            {
                settings.forwardURL = value
            } else {
                error(
                    path.appending("forward_url"), "invalid URL \"\(value)\"; allowed: \"\" or an http(s) …/track URL")
            }
        }
        if let written = string(table["forward_key"], at: path.appending("forward_key")),
            let key = secret(written, at: path.appending("forward_key"))
        {
            settings.forwardKey = key
            if !settings.forwardURL.isEmpty, key.isEmpty {
                error(
                    path.appending("forward_key"),
                    "forward_url is set but the key is empty; write \"prefix.secret\" or \"env:NAME\"")
            }
        }
        return settings
    }

    mutating func readRedirects(_ node: ConfigNode?) -> RedirectSettings {
        let path = ConfigPath.root.appending("redirects")
        var settings = RedirectSettings()
        guard let table = table(node, at: path) else { return settings }
        checkKeys(table, at: path, allowed: ["allow_hosts"])
        if let hosts = stringArray(table["allow_hosts"], at: path.appending("allow_hosts")) {
            for (index, host) in hosts.enumerated() where host.isEmpty || host.contains("/") || host.contains(" ") {
                error(
                    path.appending("allow_hosts")[index], "\"\(host)\" is not a host name; write \"shop.example.com\"")
            }
            settings.allowHosts = hosts.map { $0.lowercased() }
        }
        allowHosts = Set(settings.allowHosts)
        return settings
    }

    mutating func readAPIKeys(_ node: ConfigNode?) -> [APIKey] {
        let path = ConfigPath.root.appending("api_key")
        var keys: [APIKey] = []
        var seen: Set<String> = []
        for (table, keyPath) in tables(node, at: path) {
            checkKeys(table, at: keyPath, allowed: ["id", "secret"])
            let id = requiredString(table, "id", at: keyPath, example: "\"demo\"")
            if let id, !seen.insert(id).inserted {
                error(keyPath.appending("id"), "duplicate API key id \"\(id)\"")
            }
            guard let written = string(table["secret"], at: keyPath.appending("secret")) else {
                if table["secret"] == nil {
                    error(
                        keyPath,
                        "API key with an empty secret: missing secret; write secret = \"env:NAME\" or a literal value")
                }
                continue
            }
            guard let secret = secret(written, at: keyPath.appending("secret")) else { continue }
            guard !secret.isEmpty else {
                let source = written.hasPrefix("env:") ? " (\(written.dropFirst(4)) is set but empty)" : ""
                error(keyPath.appending("secret"), "API key with an empty secret\(source); give it a value or env:NAME")
                continue
            }
            if let id { keys.append(APIKey(id: id, secret: secret)) }
        }
        return keys
    }

    mutating func readRoutes(_ node: ConfigNode?) -> [Route] {
        let path = ConfigPath.root.appending("route")
        var routes: [Route] = []
        for (table, routePath) in tables(node, at: path) {
            checkKeys(table, at: routePath, allowed: ["path", "pattern", "names", "groups"])
            let prefix = string(table["path"], at: routePath.appending("path"))
            let pattern = string(table["pattern"], at: routePath.appending("pattern"))
            var match: Route.Match?
            switch (prefix, pattern) {
            case (let prefix?, nil):
                if prefix.hasPrefix("/") {
                    match = .prefix(prefix)
                } else {
                    error(routePath.appending("path"), "a route path starts with \"/\", such as \"/\" or \"/shop\"")
                }
            case (nil, let pattern?):
                if pattern.hasPrefix("/") {
                    match = .pattern(pattern)
                } else {
                    error(routePath.appending("pattern"), "a route pattern starts with \"/\", such as \"/products/*\"")
                }
            case (.some, .some):
                error(routePath, "a route has either path or pattern, not both")
            case (nil, nil):
                if table["path"] == nil, table["pattern"] == nil {
                    error(routePath, "a route needs path = \"/prefix\" or pattern = \"/products/*\"")
                }
            }
            let names = stringArray(table["names"], at: routePath.appending("names"))
            let groups = stringArray(table["groups"], at: routePath.appending("groups"))
            if let match { routes.append(Route(match: match, names: names, groups: groups)) }
        }
        return routes
    }
}
