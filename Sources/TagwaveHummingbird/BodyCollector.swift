import HTTPTypes
import Hummingbird
import NIOCore

/// Reads a response body into one buffer, so it can be stored, hashed or inspected.
///
/// A class, so the bytes are still there after ``ResponseBody/write(_:)`` consumed the writer; it
/// lives within one request's task.
final class BodyCollector: ResponseBodyWriter {
    private(set) var buffer = ByteBuffer()
    private(set) var trailers: HTTPFields?

    func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        self.buffer.writeBuffer(&buffer)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {
        trailers = trailingHeaders
    }

    /// The whole body of `response`, and the response with that body in memory (the original body
    /// can be written only once).
    static func collect(_ response: Response) async throws -> (response: Response, body: ByteBuffer) {
        let collector = BodyCollector()
        try await response.body.write(collector)
        var response = response
        let body = collector.buffer
        response.body = ResponseBody(byteBuffer: body)
        return (response, body)
    }
}
