import NIOHTTP1

extension PassThroughRequest {
    /// The head NIO's request decoder makes of these bytes, for a routed page that the `ProxyHandler` answers:
    /// the scan has read the head already, and handing its fields over skips a second parse (llhttp, a
    /// callback per field, and the decoder's parts walking the pipeline).
    ///
    /// As llhttp does, a value keeps its trailing spaces and tabs (the scan's `value` leaves them out) and
    /// bytes that are not UTF-8 become U+FFFD. The agreement suite compares the two heads on random requests.
    ///
    /// ```swift
    /// if case .passThrough(let request) = RequestHeadScan.scan(bytes) {
    ///     let head = bytes.withUnsafeBytes { request.requestHead(in: $0) }
    /// }
    /// ```
    func requestHead(in bytes: UnsafeRawBufferPointer) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count)
        for field in fields {
            // A request line ends with CRLF (the scan refuses a bare LF).
            let valueEnd = max(field.value.lowerBound, field.lineEnd - 2)
            headers.add(
                name: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[field.name]), as: UTF8.self),
                value: String(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[field.value.lowerBound..<valueEnd]),
                    as: UTF8.self))
        }
        return HTTPRequestHead(
            version: .http1_1, method: isHEAD ? .HEAD : .GET,
            uri: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[target]), as: UTF8.self), headers: headers)
    }
}
