public import Hummingbird
import NIOCore
import VeneerCore

/// An error of the Intempt-compatible API; it renders itself as `{"errors":[{"message":"…"}]}`.
///
/// ```swift
/// throw APIError(.badRequest, "Identification is required")
/// ```
public struct APIError: Error, HTTPResponseError, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        APIResponse.json(["errors": [["message": .string(message)]]], status: status)
    }

    static let unauthorized = APIError(.unauthorized, "Unauthorized: a valid API key is required")
    static let tooLarge = APIError(.contentTooLarge, "Request body is larger than 5 MB")
    static let noIdentity = APIError(.badRequest, "Either userId or profileId or accountId is required")
    static let noIdentification = APIError(.badRequest, "Identification is required")
    static let badSelector = APIError(.badRequest, "must match \"^[a-zA-Z0-9_-]$\"")
}
