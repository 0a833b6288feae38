import Foundation

/// `[[personalization]]` with its experiences and `[[experiment]]` with its variants.
extension ConfigBuilder {
    static let displayHint =
        "allowed: always, once, once-per-visit, { times = N, per = \"day\" | \"7d\" | \"visit\" }"

    mutating func readOptimizations(_ node: ConfigNode?, kind: Optimization.Kind) -> [(Optimization, ConfigPath)] {
        let path = ConfigPath.root.appending(kind.rawValue)
        var result: [(Optimization, ConfigPath)] = []
        for (table, optimizationPath) in tables(node, at: path) {
            if let optimization = optimization(table, kind: kind, at: optimizationPath) {
                result.append((optimization, optimizationPath))
            }
        }
        return result
    }

    mutating func optimization(
        _ table: [String: ConfigNode], kind: Optimization.Kind, at path: ConfigPath
    ) -> Optimization? {
        let armKey = kind == .personalization ? "experience" : "variant"
        var allowed = ["name", "selector", "group", "status", "bucket_version", "metrics", armKey]
        allowed += kind == .personalization ? ["control"] : ["coverage", "audience"]
        if kind == .personalization, table["audience"] != nil {
            error(
                path.appending("audience"),
                "a personalization targets per experience: move audience into each [[personalization.experience]]")
            checkKeys(table.filter { $0.key != "audience" }, at: path, allowed: allowed)
        } else {
            checkKeys(table, at: path, allowed: allowed)
        }

        let name = requiredString(table, "name", at: path, example: "\"Welcome back\"")
        var selector: String?
        if let written = string(table["selector"], at: path.appending("selector")) {
            if Self.isSelectorName(written) {
                selector = written
            } else {
                error(
                    path.appending("selector"),
                    "selector \"\(written)\" is outside ^[a-zA-Z0-9_-]+$; use letters, digits, - and _")
            }
        } else if table["selector"] == nil, let name {
            let derived = Optimization.derivedSelector(from: name)
            if derived.isEmpty {
                error(
                    path.appending("name"),
                    "no selector can be derived from \"\(name)\"; add selector = \"letters-digits_and-dashes\"")
            } else {
                selector = derived
            }
        }
        var group: String?
        if let written = string(table["group"], at: path.appending("group")) {
            if Self.isSelectorName(written) {
                group = written
            } else {
                error(
                    path.appending("group"),
                    "group \"\(written)\" is outside ^[a-zA-Z0-9_-]+$; use letters, digits, - and _")
            }
        }
        var status = Optimization.Status.running
        if let written = string(table["status"], at: path.appending("status")) {
            if let parsed = Optimization.Status(rawValue: written) {
                status = parsed
            } else {
                let suggestion =
                    KeySuggestion.closest(to: written, among: Optimization.Status.allCases.map(\.rawValue))
                    .map { " (did you mean \"\($0)\"?)" } ?? ""
                error(
                    path.appending("status"),
                    "unknown status \"\(written)\"\(suggestion); allowed: draft, running, paused")
            }
        }
        let bucketVersion =
            integer(table["bucket_version"], at: path.appending("bucket_version"), range: 1...Int.max) ?? 1
        let metrics = self.metrics(table["metrics"], at: path)

        var controlPercent: Double = 0
        var coveragePercent: Double = 100
        var audience: Audience?
        if kind == .personalization {
            controlPercent =
                table["control"] == nil
                ? 5 : (percent(table["control"], at: path.appending("control"), what: "control") ?? 5)
        } else {
            coveragePercent =
                table["coverage"] == nil
                ? 100 : (percent(table["coverage"], at: path.appending("coverage"), what: "coverage") ?? 100)
            if let node = table["audience"] { audience = self.audience(node, at: path.appending("audience")) }
        }

        let armsPath = path.appending(armKey)
        let armTables = tables(table[armKey], at: armsPath)
        // A draft may be empty while it is being written; a running one would serve nothing.
        if armTables.isEmpty, status == .running,
            table[armKey] == nil || armTables.isEmpty && Self.isArray(table[armKey])
        {
            let example =
                kind == .personalization ? "[[personalization.experience]]" : "two [[experiment.variant]] tables"
            error(path, "running \(kind.rawValue) \"\(name ?? "")\" has no \(armKey); add \(example)")
        }
        var arms: [Arm] = []
        var armNames: Set<String> = []
        for (armTable, armPath) in armTables {
            guard let arm = arm(armTable, kind: kind, at: armPath) else { continue }
            if !armNames.insert(arm.name).inserted {
                error(armPath.appending("name"), "duplicate \(armKey) name \"\(arm.name)\" in \"\(name ?? "")\"")
            }
            if kind == .personalization, status == .running, arm.audience == nil, armTable["audience"] == nil {
                error(
                    armPath,
                    "needs setup: experience \"\(arm.name)\" of running personalization \"\(name ?? "")\" has no audience, so it is never served; add `audience = \"everyone\"` or a condition such as `audience = { attribute = \"user.plan\", equals = \"pro\" }`"
                )
            }
            arms.append(arm)
        }
        let weightsAreNumbers = armTables.allSatisfy { armTable in
            switch armTable.table["weight"] {
            case .integer?, .float?: return true
            default: return false
            }
        }
        if kind == .experiment, !armTables.isEmpty, arms.count == armTables.count, weightsAreNumbers {
            let total = arms.reduce(0) { $0 + $1.weight }
            if abs(total - 100) > 0.0001 {
                let weights = arms.map { JSONValue.format($0.weight) }.joined(separator: " + ")
                error(armsPath, "variant weights sum to \(JSONValue.format(total)) (\(weights)), not 100")
            }
        }

        guard let name, let selector, let metrics else { return nil }
        return Optimization(
            name: name, selector: selector, group: group, kind: kind, status: status, metrics: metrics,
            bucketVersion: bucketVersion, controlPercent: controlPercent, coveragePercent: coveragePercent,
            audience: audience, arms: arms
        )
    }

    static func isArray(_ node: ConfigNode?) -> Bool {
        if case .array? = node { return true }
        return false
    }

    mutating func arm(_ table: [String: ConfigNode], kind: Optimization.Kind, at path: ConfigPath) -> Arm? {
        let allowed =
            kind == .personalization
            ? ["name", "audience", "display", "devices", "schedule", "template", "payload", "payload_file"]
            : ["name", "weight", "template", "payload", "payload_file"]
        checkKeys(table, at: path, allowed: allowed)
        let name = requiredString(
            table, "name", at: path, example: kind == .personalization ? "\"Returning visitor\"" : "\"control\"")
        var arm = Arm(name: name ?? "")
        if kind == .experiment {
            if table["weight"] == nil {
                error(path, "missing weight; write weight = 50 (variant weights sum to 100)")
            } else if let weight = number(table["weight"], at: path.appending("weight")) {
                if weight < 0 || weight > 100 {
                    error(path.appending("weight"), "weight \(JSONValue.format(weight)) is outside 0–100")
                }
                arm.weight = weight
            }
        }
        if let node = table["audience"] { arm.audience = audience(node, at: path.appending("audience")) }
        if let node = table["display"] { arm.display = display(node, at: path.appending("display")) ?? .always }
        if let node = table["devices"] { arm.devices = devices(node, at: path.appending("devices")) ?? .all }
        if let node = table["schedule"] { arm.schedule = schedule(node, at: path.appending("schedule")) }
        if let template = string(table["template"], at: path.appending("template")) {
            // Kept even when the file is broken (reported once), so changes relying on it are not reported too.
            loadTemplate(template, at: path.appending("template"))
            arm.template = template
        }
        readPayload(table, into: &arm, at: path)
        guard name != nil else { return nil }
        return arm
    }

    mutating func metrics(_ node: ConfigNode?, at optimizationPath: ConfigPath) -> Metrics? {
        let path = optimizationPath.appending("metrics")
        let hint =
            "add metrics = { primary = \"Purchase\" } or { primary = { event = \"Purchase\", property = \"amount\", aggregate = \"sum\" } }"
        guard let node else {
            error(optimizationPath, "no primary metric; \(hint)")
            return nil
        }
        guard case .table(let table) = node else {
            error(path, "expected a table, found \(node.typeName); \(hint)")
            return nil
        }
        checkKeys(table, at: path, allowed: ["primary", "secondary"])
        guard let primaryNode = table["primary"] else {
            error(path, "no primary metric; \(hint)")
            return nil
        }
        let primary = metric(primaryNode, at: path.appending("primary"))
        var secondary: [Metric] = []
        if let node = table["secondary"] {
            if case .array(let elements) = node {
                for (index, element) in elements.enumerated() {
                    if let metric = metric(element, at: path.appending("secondary")[index]) { secondary.append(metric) }
                }
            } else {
                typeError(path.appending("secondary"), expected: "a list of metrics", found: node)
            }
        }
        return primary.map { Metrics(primary: $0, secondary: secondary) }
    }

    mutating func metric(_ node: ConfigNode, at path: ConfigPath) -> Metric? {
        switch node {
        case .string(let event):
            guard !event.isEmpty else {
                error(path, "names no event; write \"Purchase\"")
                return nil
            }
            return Metric(event: event)
        case .table(let table):
            checkKeys(table, at: path, allowed: ["event", "property", "aggregate"])
            let event = requiredString(table, "event", at: path, example: "\"Purchase\"")
            let property = string(table["property"], at: path.appending("property"))
            var aggregate = Metric.Aggregate.count
            if let written = string(table["aggregate"], at: path.appending("aggregate")) {
                if let parsed = Metric.Aggregate(rawValue: written) {
                    aggregate = parsed
                } else {
                    error(
                        path.appending("aggregate"),
                        "unknown aggregate \"\(written)\"; allowed: \(Metric.Aggregate.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                    return nil
                }
            }
            if aggregate != .count, property?.isEmpty ?? true {
                error(
                    path,
                    "aggregate \"\(aggregate.rawValue)\" needs the property it reads, such as property = \"amount\"")
                return nil
            }
            return event.map { Metric(event: $0, property: property, aggregate: aggregate) }
        default:
            error(path, "expected a metric: \"Purchase\" or { event, property, aggregate }; found \(node.typeName)")
            return nil
        }
    }

    mutating func display(_ node: ConfigNode, at path: ConfigPath) -> DisplayFrequency? {
        switch node {
        case .string(let mode):
            switch mode {
            case "always": return .always
            case "once": return .once
            case "once-per-visit": return .oncePerVisit
            default:
                error(path, "unknown display mode \"\(mode)\"; \(Self.displayHint)")
                return nil
            }
        case .table(let table):
            checkKeys(table, at: path, allowed: ["times", "per"])
            guard table["times"] != nil, table["per"] != nil else {
                error(path, "a display cap needs times and per; \(Self.displayHint)")
                return nil
            }
            let times = integer(table["times"], at: path.appending("times"), range: 1...Int.max)
            guard let per = string(table["per"], at: path.appending("per")) else { return nil }
            let period: DisplayFrequency.CapPeriod
            switch per {
            case "visit": period = .visit
            case "day": period = .window(seconds: 86_400)
            case "week": period = .window(seconds: 7 * 86_400)
            default:
                guard let window = Duration(configText: per), window >= .seconds(1) else {
                    error(
                        path.appending("per"),
                        "unknown display period \"\(per)\"; allowed: \"visit\", \"day\", \"week\" or a duration such as \"7d\" or \"12h\""
                    )
                    return nil
                }
                period = .window(seconds: window.wholeSeconds)
            }
            return times.map { .cap(times: $0, per: period) }
        default:
            error(path, "unknown display mode: found \(node.typeName); \(Self.displayHint)")
            return nil
        }
    }

    mutating func devices(_ node: ConfigNode, at path: ConfigPath) -> DeviceFilter? {
        guard case .string(let text) = node else {
            error(path, "unknown device: found \(node.typeName); allowed: all, mobile, desktop")
            return nil
        }
        guard let filter = DeviceFilter(rawValue: text.lowercased()) else {
            error(path, "unknown device \"\(text)\"; allowed: all, mobile, desktop")
            return nil
        }
        return filter
    }

    static let weekdayNumbers: [String: Int] = [
        "sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7,
        "sunday": 1, "monday": 2, "tuesday": 3, "wednesday": 4, "thursday": 5, "friday": 6, "saturday": 7,
    ]

    mutating func schedule(_ node: ConfigNode, at path: ConfigPath) -> Schedule? {
        guard let table = table(node, at: path) else { return nil }
        checkKeys(table, at: path, allowed: ["start", "end", "days", "hours"])
        var schedule = Schedule()
        var failed = false
        if let node = table["start"] {
            schedule.start = instant(node, at: path.appending("start"))
            failed = failed || schedule.start == nil
        }
        if let node = table["end"] {
            schedule.end = instant(node, at: path.appending("end"))
            failed = failed || schedule.end == nil
        }
        if let start = schedule.start, let end = schedule.end, end <= start {
            error(path.appending("end"), "the schedule ends before it starts")
            failed = true
        }
        if let node = table["days"] {
            if let days = stringArray(node, at: path.appending("days")) {
                for (index, day) in days.enumerated() {
                    if let number = Self.weekdayNumbers[day.lowercased()] {
                        schedule.weekdays.insert(number)
                    } else {
                        error(
                            path.appending("days")[index],
                            "unknown day \"\(day)\"; allowed: mon, tue, wed, thu, fri, sat, sun")
                        failed = true
                    }
                }
                if days.isEmpty {
                    error(path.appending("days"), "days = [] allows no day; list days or leave days out for every day")
                    failed = true
                }
            } else {
                failed = true
            }
        }
        if let text = string(table["hours"], at: path.appending("hours")) {
            if let window = Self.dailyWindow(text) {
                schedule.dailyWindow = window
            } else {
                error(
                    path.appending("hours"),
                    "invalid time window \"\(text)\"; write \"HH:MM-HH:MM\" such as \"09:00-18:00\" (24-hour clock; \"22:00-02:00\" wraps past midnight)"
                )
                failed = true
            }
        }
        return failed ? nil : schedule
    }

    /// `09:00-18:00`; `24:00` is accepted as an end.
    static func dailyWindow(_ text: String) -> Schedule.DailyWindow? {
        let parts = text.trimmingSpaces.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = minuteOfDay(parts[0]), let end = minuteOfDay(parts[1]), start != end,
            start < 24 * 60
        else { return nil }
        return Schedule.DailyWindow(startMinute: start, endMinute: end == 24 * 60 ? 0 : end)
    }

    static func minuteOfDay(_ text: Substring) -> Int? {
        let parts = String(text).trimmingSpaces.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0...24).contains(hour), (0..<60).contains(minute), hour < 24 || minute == 0
        else { return nil }
        return hour * 60 + minute
    }
}
