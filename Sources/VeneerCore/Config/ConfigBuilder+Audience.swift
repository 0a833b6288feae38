import Foundation

/// Audiences: `"everyone"`, attribute, request, event and segment conditions, and `all` / `any` / `not`.
extension ConfigBuilder {
    static let audienceForms = ["attribute", "request", "event", "segment", "all", "any", "not"]
    static let audienceHint =
        "allowed: \"everyone\", { attribute = \"user.plan\", equals = \"pro\" }, { request = \"path\", starts_with = \"/shop\" }, { event = \"Purchase\", at_least = 1, within = \"30d\" }, { segment = \"name\" }, { all = [...] }, { any = [...] }, { not = {...} }"

    mutating func audience(_ node: ConfigNode, at path: ConfigPath) -> Audience? {
        switch node {
        case .string(let text):
            if text == "everyone" { return .everyone }
            error(path, "unknown audience \"\(text)\"; \(Self.audienceHint)")
            return nil
        case .table(let table):
            let forms = Self.audienceForms.filter { table[$0] != nil }
            guard forms.count == 1, let form = forms.first else {
                if forms.isEmpty {
                    let unknown = table.keys.sorted().first.map { " (found \"\($0)\")" } ?? ""
                    error(
                        path,
                        "an audience needs one of \(Self.audienceForms.joined(separator: ", "))\(unknown); \(Self.audienceHint)"
                    )
                } else {
                    error(
                        path,
                        "an audience has one form, found \(forms.joined(separator: " and ")); combine them with all = [...]"
                    )
                }
                return nil
            }
            switch form {
            case "attribute": return attributeAudience(table, at: path)
            case "request": return requestAudience(table, at: path)
            case "event": return eventAudience(table, at: path)
            case "segment": return segmentAudience(table, at: path)
            case "not":
                checkKeys(table, at: path, allowed: ["not"])
                guard let inner = table["not"] else { return nil }
                return audience(inner, at: path.appending("not")).map { .not($0) }
            default:
                checkKeys(table, at: path, allowed: [form])
                let listPath = path.appending(form)
                guard case .array(let elements) = table[form]! else {
                    error(listPath, "\(form) takes a list of audiences: \(form) = [ {...}, {...} ]")
                    return nil
                }
                guard !elements.isEmpty else {
                    error(listPath, "\(form) = [] names no audience; list at least one")
                    return nil
                }
                var members: [Audience] = []
                var failed = false
                for (index, element) in elements.enumerated() {
                    if let member = audience(element, at: listPath[index]) {
                        members.append(member)
                    } else {
                        failed = true
                    }
                }
                guard !failed else { return nil }
                return form == "all" ? .all(members) : .any(members)
            }
        default:
            error(path, "expected an audience, found \(node.typeName); \(Self.audienceHint)")
            return nil
        }
    }

    mutating func attributeAudience(_ table: [String: ConfigNode], at path: ConfigPath) -> Audience? {
        checkKeys(table, at: path, allowed: ["attribute"] + Condition.operatorNames)
        let attributePath = path.appending("attribute")
        guard let name = string(table["attribute"], at: attributePath) else { return nil }
        let components = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let condition = self.condition(table, at: path)
        guard components.count >= 2, ["user", "account"].contains(components[0]), !components.contains("") else {
            error(
                attributePath,
                "unknown attribute \"\(name)\"; allowed: user.NAME or account.NAME, such as \"user.plan\"")
            return nil
        }
        return condition.map { .attribute(path: components, $0) }
    }

    mutating func requestAudience(_ table: [String: ConfigNode], at path: ConfigPath) -> Audience? {
        checkKeys(table, at: path, allowed: ["request"] + Condition.operatorNames)
        let fieldPath = path.appending("request")
        guard let name = string(table["request"], at: fieldPath) else { return nil }
        let condition = self.condition(table, at: path)
        guard let field = RequestField(parsing: name) else {
            error(
                fieldPath,
                "unknown request field \"\(name)\"; allowed: path, url, query.NAME, referrer, header.NAME, cookie.NAME, language, country"
            )
            return nil
        }
        return condition.map { .request(field, $0) }
    }

    mutating func eventAudience(_ table: [String: ConfigNode], at path: ConfigPath) -> Audience? {
        checkKeys(table, at: path, allowed: ["event", "at_least", "at_most", "within", "where"])
        guard let event = requiredString(table, "event", at: path, example: "\"Purchase\"") else { return nil }
        let atLeast = integer(table["at_least"], at: path.appending("at_least"), range: 0...Int.max)
        let atMost = integer(table["at_most"], at: path.appending("at_most"), range: 0...Int.max)
        var failed = false
        if let atLeast, let atMost, atLeast > atMost {
            error(path.appending("at_most"), "at_most = \(atMost) is below at_least = \(atLeast); no visitor can match")
            failed = true
        }
        var withinSeconds: Int64?
        if let node = table["within"] {
            if let window = duration(node, at: path.appending("within")) {
                withinSeconds = max(1, window.wholeSeconds)
            } else {
                failed = true
            }
        }
        var filter: EventFilter?
        if let node = table["where"] {
            let wherePath = path.appending("where")
            guard let whereTable = self.table(node, at: wherePath) else { return nil }
            checkKeys(whereTable, at: wherePath, allowed: ["property"] + Condition.operatorNames)
            let property = requiredString(whereTable, "property", at: wherePath, example: "\"amount\"")
            guard let condition = condition(whereTable, at: wherePath), let property, !failed else { return nil }
            filter = EventFilter(property: property, condition: condition)
        }
        guard !failed, table["at_least"] == nil || atLeast != nil, table["at_most"] == nil || atMost != nil else {
            return nil
        }
        // A bare `{ event = "X" }` means "performed X at least once".
        let effectiveAtLeast = atLeast ?? (atMost == nil ? 1 : nil)
        return .event(
            EventCondition(
                event: event, atLeast: effectiveAtLeast, atMost: atMost, withinSeconds: withinSeconds, filter: filter))
    }

    mutating func segmentAudience(_ table: [String: ConfigNode], at path: ConfigPath) -> Audience? {
        checkKeys(table, at: path, allowed: ["segment"])
        guard let name = requiredString(table, "segment", at: path, example: "\"big-spenders\"") else { return nil }
        segmentReferences.append((name, path.appending("segment"), currentSegment))
        return .segment(name)
    }

    /// Exactly one operator key of `table`, its operand type-checked.
    mutating func condition(_ table: [String: ConfigNode], at path: ConfigPath) -> Condition? {
        let operators = Condition.operatorNames.filter { table[$0] != nil }
        guard operators.count == 1, let name = operators.first, let operand = table[name] else {
            if operators.isEmpty {
                error(path, "missing operator; add one of \(Condition.operatorNames.joined(separator: ", "))")
            } else {
                error(
                    path,
                    "one operator per condition, found \(operators.joined(separator: " and ")); combine conditions with all = [...]"
                )
            }
            return nil
        }
        let operandPath = path.appending(name)
        switch name {
        case "equals", "not_equals":
            guard let value = scalar(operand, at: operandPath) else { return nil }
            return name == "equals" ? .equals(value) : .notEquals(value)
        case "in", "not_in":
            guard case .array(let elements) = operand else {
                error(operandPath, "\(name) needs a list, such as [\"pro\", \"team\"]; found \(operand.typeName)")
                return nil
            }
            var values: [JSONValue] = []
            for (index, element) in elements.enumerated() {
                guard let value = scalar(element, at: operandPath[index]) else { return nil }
                values.append(value)
            }
            return name == "in" ? .isIn(values) : .notIn(values)
        case "contains", "starts_with", "ends_with":
            guard case .string(let text) = operand else {
                error(operandPath, "\(name) needs a string; found \(operand.typeName)")
                return nil
            }
            switch name {
            case "contains": return .contains(text)
            case "starts_with": return .startsWith(text)
            default: return .endsWith(text)
            }
        case "matches":
            guard case .string(let source) = operand else {
                error(operandPath, "matches needs a regular expression string; found \(operand.typeName)")
                return nil
            }
            do {
                return .matches(try CompiledPattern(source))
            } catch {
                self.error(operandPath, "unparseable regex \"\(source)\": \(Self.regexReason(error))")
                return nil
            }
        case "exists":
            guard case .bool(let flag) = operand else {
                error(operandPath, "exists needs true or false; found \(operand.typeName)")
                return nil
            }
            return .exists(flag)
        case "gt", "gte", "lt", "lte":
            let value: Double
            switch operand {
            case .integer(let integer): value = Double(integer)
            case .float(let float) where float.isFinite: value = float
            default:
                error(operandPath, "\(name) needs a number; found \(operand.typeName)")
                return nil
            }
            switch name {
            case "gt": return .greaterThan(value)
            case "gte": return .greaterThanOrEqual(value)
            case "lt": return .lessThan(value)
            default: return .lessThanOrEqual(value)
            }
        default:  // before, after
            let instant: Date?
            switch operand {
            case .dateTime(let dateTime): instant = dateTime.date(in: timeZone)
            case .string(let text): instant = Date(configText: text, timeZone: timeZone)
            default: instant = nil
            }
            guard let instant else {
                let found = operand.stringValue.map { "\"\($0)\"" } ?? operand.typeName
                error(operandPath, "\(name) needs an ISO-8601 instant such as \"2026-11-01T00:00:00Z\"; found \(found)")
                return nil
            }
            return name == "before" ? .before(instant) : .after(instant)
        }
    }

    /// A string, number or boolean operand.
    mutating func scalar(_ node: ConfigNode, at path: ConfigPath) -> JSONValue? {
        switch node {
        case .string, .integer, .float, .bool, .dateTime, .date, .time: return node.jsonValue
        default:
            error(path, "expected a string, number or boolean; found \(node.typeName)")
            return nil
        }
    }

    static func regexReason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let reason = nsError.userInfo["NSInvalidValue"] { return "invalid pattern near \(reason)" }
        return nsError.localizedFailureReason ?? "not a valid ICU regular expression"
    }
}
