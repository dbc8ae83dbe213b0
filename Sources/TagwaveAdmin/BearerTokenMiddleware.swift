import HTTPTypes
import Hummingbird

/// Requires `Authorization: Bearer <token>` on every request except those `isPublic` lets through;
/// answers `401` with `WWW-Authenticate: Bearer` otherwise. Tokens are compared in constant time.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]
    let isPublic: @Sendable (Request) -> Bool

    init(token: String, isPublic: @escaping @Sendable (Request) -> Bool) {
        self.token = Array(token.utf8)
        self.isPublic = isPublic
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if isPublic(request) || authorized(request.headers[.authorization]) {
            return try await next(request, context)
        }
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = #"Bearer realm="tagwave-admin""#
        headers[.contentType] = "application/json; charset=utf-8"
        let body = #"{"error":"a bearer token is required: send Authorization: Bearer <admin token>"}"#
        return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: .init(string: body)))
    }

    private func authorized(_ header: String?) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let offered = Array(header.utf8.dropFirst(7))
        // Constant time in the offered token's content: every byte is compared.
        var difference = UInt8(offered.count == token.count ? 0 : 1)
        for index in offered.indices {
            difference |= offered[index] ^ (index < token.count ? token[index] : 0)
        }
        return difference == 0
    }
}
