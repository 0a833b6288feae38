import Foundation

/// Payloads (inline or `payload_file`), their `changes` and `redirect`, and the template files they name.
extension ConfigBuilder {
    /// Keys a change object may have; the rest would be silently ignored, so they are reported.
    static let changeKeys = ["selector", "action", "html", "text", "template", "value", "name"]
    static let redirectStatuses = [301, 302, 303, 307, 308]

    /// Where a payload came from, to place its diagnostics.
    enum PayloadSource {
        /// Written in proxy.conf: positions come from the source map.
        case inline
        /// Read from a JSON file: the file is named, without lines.
        case file(String)
    }

    mutating func readPayload(_ table: [String: ConfigNode], into arm: inout Arm, at armPath: ConfigPath) {
        let payloadPath = armPath.appending("payload")
        var payload: JSONValue?
        var source = PayloadSource.inline
        switch (table["payload"], table["payload_file"]) {
        case (.some, .some):
            error(armPath.appending("payload_file"), "give either payload or payload_file, not both")
            return
        case (let node?, nil):
            guard let object = self.table(node, at: payloadPath) else { return }
            payload = ConfigNode.table(object).jsonValue
        case (nil, let node?):
            let filePath = armPath.appending("payload_file")
            guard let written = string(node, at: filePath) else { return }
            let absolute = resolve(written)
            guard let data = FileManager.default.contents(atPath: absolute), Self.isFile(absolute) else {
                error(filePath, "payload file \(displayPath(absolute)) does not exist")
                return
            }
            do {
                payload = try JSONValue(jsonData: data)
            } catch {
                self.error(
                    file: displayPath(absolute), line: nil, column: nil, filePath,
                    "invalid JSON: \(Self.jsonReason(error))")
                return
            }
            guard payload?.objectValue != nil else {
                error(
                    file: displayPath(absolute), line: nil, column: nil, filePath, "a payload file holds a JSON object")
                return
            }
            source = .file(displayPath(absolute))
        case (nil, nil):
            return
        }
        guard let payload else { return }
        arm.payload = payload
        let errorsBefore = diagnostics.count
        checkPayloadStrings(payload, at: payloadPath, source: source)
        if let changes = payload["changes"] {
            arm.changes = pageChanges(
                changes, defaultTemplate: arm.template, at: payloadPath.appending("changes"), source: source)
        }
        if let redirect = payload["redirect"] {
            arm.redirect = redirectRule(redirect, at: payloadPath.appending("redirect"), source: source)
        }
        guard diagnostics.count == errorsBefore else { return }
        do {
            arm.compiledPayload = try PayloadTemplate(payload)
        } catch {
            report(error, in: "", at: payloadPath, source: source)
        }
    }

    /// Compiles every string of the payload as a payload template, to report each bad one where it is.
    /// Strings that changes compile as HTML templates are checked there instead.
    mutating func checkPayloadStrings(
        _ value: JSONValue, at path: ConfigPath, source: PayloadSource, insideChange: Bool = false
    ) {
        switch value {
        case .string(let text):
            do {
                _ = try Template(source: text, mode: .payload)
            } catch {
                report(error, in: text, at: path, source: source)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                checkPayloadStrings(element, at: path[index], source: source)
            }
        case .object(let object):
            for key in object.keys.sorted() {
                if insideChange, ["html", "text", "value"].contains(key) { continue }
                let isChangeList = key == "changes"
                if isChangeList, case .array(let changes) = object[key]! {
                    for (index, change) in changes.enumerated() {
                        checkPayloadStrings(change, at: path.appending(key)[index], source: source, insideChange: true)
                    }
                } else {
                    checkPayloadStrings(object[key]!, at: path.appending(key), source: source)
                }
            }
        default:
            break
        }
    }

    mutating func pageChanges(
        _ node: JSONValue, defaultTemplate: String?, at path: ConfigPath, source: PayloadSource
    ) -> [PageChange] {
        guard case .array(let elements) = node else {
            payloadError(
                path,
                "changes is a list of change objects: [ { selector = \"#hero\", action = \"replace\", html = \"…\" } ]",
                source: source)
            return []
        }
        var changes: [PageChange] = []
        for (index, element) in elements.enumerated() {
            let changePath = path[index]
            guard let object = element.objectValue else {
                payloadError(changePath, "a change must be an object with selector and action", source: source)
                continue
            }
            for key in object.keys.sorted() where !Self.changeKeys.contains(key) {
                payloadError(
                    changePath.appending(key),
                    KeySuggestion.unknownMessage("change key", key, allowed: Self.changeKeys), source: source)
            }
            var contentIsValid = true
            if case .string(let selector)? = object["selector"], !selector.isEmpty {
                do {
                    _ = try CSSSelector(parsing: selector)
                } catch {
                    reportSelector(error, selector: selector, at: changePath.appending("selector"), source: source)
                    contentIsValid = false
                }
            }
            for key in ["html", "text", "value"] {
                guard case .string(let text)? = object[key] else { continue }
                do {
                    _ = try Template(source: text, mode: .html)
                } catch {
                    report(error, in: text, at: changePath.appending(key), source: source)
                    contentIsValid = false
                }
            }
            if let name = object["template"]?.stringValue, !name.isEmpty {
                contentIsValid =
                    loadTemplate(name, at: changePath.appending("template"), source: source) && contentIsValid
            }
            guard contentIsValid else { continue }
            do {
                let change = try PageChange(json: element, defaultTemplate: defaultTemplate)
                changes.append(change)
            } catch {
                payloadError(
                    error.key.isEmpty ? changePath : changePath.appending(error.key), error.message, source: source)
            }
        }
        return changes
    }

    mutating func redirectRule(_ node: JSONValue, at path: ConfigPath, source: PayloadSource) -> RedirectRule? {
        guard case .object(let object) = node else {
            payloadError(path, "redirect is { url = \"/sale\", status = 302, keep_query = false }", source: source)
            return nil
        }
        for key in object.keys.sorted() where !["url", "status", "keep_query"].contains(key) {
            payloadError(
                path.appending(key),
                KeySuggestion.unknownMessage("redirect key", key, allowed: ["url", "status", "keep_query"]),
                source: source)
        }
        guard let url = object["url"]?.stringValue, !url.isEmpty else {
            payloadError(
                path.appending("url"), "a redirect needs url, such as \"/sale\" or \"https://shop.example.com/sale\"",
                source: source)
            return nil
        }
        var status = 302
        if let value = object["status"] {
            guard let number = value.numberValue, let code = Int(exactly: number), Self.redirectStatuses.contains(code)
            else {
                payloadError(
                    path.appending("status"), "invalid redirect status \(value.text); allowed: 301, 302, 303, 307, 308",
                    source: source)
                return nil
            }
            status = code
        }
        var keepQuery = false
        if let value = object["keep_query"] {
            guard let flag = value.boolValue else {
                payloadError(path.appending("keep_query"), "keep_query is true or false", source: source)
                return nil
            }
            keepQuery = flag
        }
        guard checkRedirectTarget(url, at: path.appending("url"), source: source) else { return nil }
        do {
            return RedirectRule(url: try Template(source: url, mode: .payload), status: status, keepQuery: keepQuery)
        } catch {
            // Already reported by checkPayloadStrings.
            return nil
        }
    }

    /// A relative target (`/sale`) or one on a host of `[redirects] allow_hosts`.
    mutating func checkRedirectTarget(_ url: String, at path: ConfigPath, source: PayloadSource) -> Bool {
        let lowered = url.lowercased()
        var rest: Substring
        if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") {
            rest = lowered[lowered.index(after: lowered.firstIndex(of: ":")!)...].dropFirst(2)
        } else if lowered.hasPrefix("//") {
            rest = lowered.dropFirst(2)
        } else if lowered.hasPrefix("/") || lowered.hasPrefix("?") || lowered.hasPrefix("<<") || lowered.hasPrefix("{{")
        {
            return true
        } else {
            payloadError(path, "redirect url \"\(url)\" is neither relative (\"/sale\") nor http(s)", source: source)
            return false
        }
        let authority = rest.prefix { !"/?#".contains($0) }
        var host = authority.split(separator: "@").last.map(String.init) ?? ""
        if host.hasPrefix("[") {
            host = String(host.prefix { $0 != "]" }) + "]"
        } else if let colon = host.firstIndex(of: ":") {
            host = String(host[..<colon])
        }
        guard !host.isEmpty, !host.contains("<<"), !host.contains("{{") else {
            payloadError(path, "the redirect host must be written out, not templated: \"\(url)\"", source: source)
            return false
        }
        guard allowHosts.contains(host) else {
            let allowed = allowHosts.isEmpty ? "none" : allowHosts.sorted().joined(separator: ", ")
            payloadError(
                path,
                "redirect to host \"\(host)\" is not in [redirects] allow_hosts (allowed: \(allowed)); add it there or redirect to a relative path",
                source: source
            )
            return false
        }
        return true
    }

    /// Compiles a template file once; false when it is missing or broken (reported once, at first use).
    @discardableResult
    mutating func loadTemplate(_ name: String, at path: ConfigPath, source: PayloadSource = .inline) -> Bool {
        if let known = templates[name] { return known != nil }
        let absolute = resolve(name, against: templateDirectory)
        guard Self.isFile(absolute), let data = FileManager.default.contents(atPath: absolute) else {
            templates[name] = .some(nil)
            payloadError(path, "template file \(displayPath(absolute)) does not exist", source: source)
            return false
        }
        guard let text = String(data: data, encoding: .utf8) else {
            templates[name] = .some(nil)
            payloadError(path, "template file \(displayPath(absolute)) is not UTF-8 text", source: source)
            return false
        }
        do {
            templates[name] = try Template(source: text, mode: .html)
            return true
        } catch {
            templates[name] = .some(nil)
            self.error(
                file: displayPath(absolute), line: error.line, column: error.column, path,
                "template error: \(error.message)")
            return false
        }
    }

    mutating func payloadError(_ path: ConfigPath, _ message: String, source: PayloadSource) {
        switch source {
        case .inline: error(path, message)
        case .file(let file): error(file: file, line: nil, column: nil, path, message)
        }
    }

    /// A template error inside a string of the payload, placed at its line and column in the file where the
    /// string is written plainly; otherwise the string's own line and column are named in the message.
    mutating func report(_ templateError: TemplateError, in text: String, at path: ConfigPath, source: PayloadSource) {
        let detail = "template error: \(templateError.message)"
        switch source {
        case .file(let file):
            error(
                file: file, line: nil, column: nil, path,
                "\(detail) (line \(templateError.line), column \(templateError.column) of the string)")
        case .inline:
            guard let location = sourceMap.exactLocation(for: path) else {
                error(path, "\(detail) (line \(templateError.line), column \(templateError.column) of the string)")
                return
            }
            if templateError.line <= 1 {
                let column = location.valueColumn + location.quoteLength + max(templateError.column, 1) - 1
                error(file: file, line: location.valueLine, column: column, path, detail)
            } else if location.valueIsMultilineString {
                error(
                    file: file, line: location.valueLine + templateError.line - 1, column: templateError.column, path,
                    detail)
            } else {
                error(
                    file: file, line: location.valueLine, column: nil, path,
                    "\(detail) (line \(templateError.line), column \(templateError.column) of the string)")
            }
        }
    }

    /// A selector error, at its column in the file when the selector is written inline.
    mutating func reportSelector(
        _ selectorError: SelectorError, selector: String, at path: ConfigPath, source: PayloadSource
    ) {
        let message = "invalid selector \"\(selector)\": \(selectorError.message)"
        guard case .inline = source, let location = sourceMap.exactLocation(for: path), !location.valueIsMultilineString
        else {
            payloadError(path, "\(message) (column \(selectorError.column) of the selector)", source: source)
            return
        }
        let column = location.valueColumn + location.quoteLength + max(selectorError.column, 1) - 1
        error(file: file, line: location.valueLine, column: column, path, message)
    }

    /// A path for messages: relative to the working directory when it is inside it.
    func displayPath(_ absolute: String) -> String {
        let workingDirectory = FileManager.default.currentDirectoryPath
        if absolute.hasPrefix(workingDirectory + "/") { return String(absolute.dropFirst(workingDirectory.count + 1)) }
        return absolute
    }

    static func jsonReason(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }
}
