import HTTPTypes
import Hummingbird
import NIOCore
import TagwaveEvents

/// What a write route did, handed to ``PublishEventMiddleware`` and ``InvalidateTagsMiddleware``
/// after it answered with a 2xx: the request, its context, and the response's status, headers and body.
///
/// ```swift
/// PublishEventMiddleware(publisher: publisher) { outcome in
///     guard let session = outcome.json, let teacher = session["teacherId"] else { return nil }
///     return Event(type: "session.created", payload: .object([("teacherId", teacher)]))
/// }
/// ```
public struct WriteOutcome<Context: RequestContext>: Sendable {
    /// The request the route answered.
    public let request: Request
    /// The request's context, as the route left it.
    public let context: Context
    /// The response status (2xx).
    public let status: HTTPResponse.Status
    /// The response headers.
    public let headers: HTTPFields
    /// The response body.
    public let body: ByteBuffer

    /// The body parsed as JSON, or nil when it is not JSON.
    public var json: JSONValue? {
        try? JSONValue.parse(Array(body.readableBytesView))
    }

    /// What a write route did.
    public init(request: Request, context: Context, status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer)
    {
        self.request = request
        self.context = context
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Runs `next`; for a 2xx answer to a method that changes state (anything but `GET`, `HEAD`,
    /// `OPTIONS`, `TRACE`) returns the response (its body now in memory) and the outcome; otherwise
    /// the response alone.
    static func observe(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> (Response, WriteOutcome?) {
        let response = try await next(request, context)
        guard !Self.safeMethods.contains(request.method), (200..<300).contains(response.status.code) else {
            return (response, nil)
        }
        let (collected, body) = try await BodyCollector.collect(response)
        return (
            collected,
            WriteOutcome(
                request: request, context: context, status: collected.status, headers: collected.headers, body: body)
        )
    }

    private static var safeMethods: Set<HTTPRequest.Method> { [.get, .head, .options, .trace] }
}
