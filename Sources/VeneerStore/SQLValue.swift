/// A value bound to, or read from, an SQL statement; the common ground of SQLite and PostgreSQL.
enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case double(Double)
    case text(String)

    init(_ text: String?) {
        self = text.map(SQLValue.text) ?? .null
    }

    init(_ integer: Int64) {
        self = .integer(integer)
    }

    init(_ integer: Int64?) {
        self = integer.map(SQLValue.integer) ?? .null
    }

    init(_ bool: Bool) {
        self = .integer(bool ? 1 : 0)
    }

    var text: String? {
        switch self {
        case .text(let text): return text
        case .integer(let integer): return String(integer)
        case .double(let double): return String(double)
        case .null: return nil
        }
    }

    var integer: Int64? {
        switch self {
        case .integer(let integer): return integer
        case .double(let double): return Int64(double)
        case .text(let text): return Int64(text)
        case .null: return nil
        }
    }

    var bool: Bool { (integer ?? 0) != 0 }
}

typealias SQLRow = [SQLValue]
