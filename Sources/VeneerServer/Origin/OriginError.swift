/// Why the origin gave no usable answer; decides between 502 and 504.
enum OriginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Could not connect: refused, unreachable, DNS, or the connect timeout.
    case connectFailed(String)
    /// The connection closed or reset before the response was complete.
    case reset
    /// No response head within `origin.timeout`.
    case timeout
    /// The origin sent something that is not HTTP/1.1.
    case protocolError(String)
    /// The TLS handshake failed: an untrusted or expired certificate, a name that does not match, no common
    /// protocol version.
    case tls(String)

    var description: String {
        switch self {
        case .connectFailed(let reason): return "connect failed: \(reason)"
        case .reset: return "connection closed before the response was complete"
        case .timeout: return "no response within the timeout"
        case .protocolError(let reason): return "invalid response: \(reason)"
        case .tls(let reason): return "TLS failed: \(reason)"
        }
    }

    /// The label used by the `veneer_origin_errors_total` metric.
    var metricCause: String {
        switch self {
        case .connectFailed: return "connect"
        case .reset: return "reset"
        case .timeout: return "timeout"
        case .protocolError: return "protocol"
        case .tls: return "tls"
        }
    }
}
