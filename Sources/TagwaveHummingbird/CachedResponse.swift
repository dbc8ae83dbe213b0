import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A response as ``ResponseCacheMiddleware`` stores it in the tagged cache (JSON, so another
/// language can read it too): status, the headers worth replaying, the body, its ETag, and when it
/// was stored.
struct CachedResponse: Codable, Sendable, Hashable {
    /// The HTTP status code.
    var status: Int
    /// Headers replayed on a hit, as `[name, value]` pairs in order.
    var headers: [[String]]
    /// The body: UTF-8 text, or base64 when ``base64`` is set.
    var body: String
    /// Whether ``body`` is base64 (the body was not UTF-8).
    var base64: Bool
    /// The strong entity tag, quotes included.
    var etag: String
    /// When it was stored, in milliseconds since 1970.
    var storedAt: Int64

    /// Headers never stored: hop-by-hop, per-response and those the middleware sets itself.
    static let excludedHeaders: Set<HTTPField.Name> = [
        .connection, .transferEncoding, .contentLength, .date, .eTag, .cacheControl, .age, .setCookie,
        .xCache,
    ]

    init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer, storedAt: Int64) {
        self.status = status.code
        self.headers = headers.filter { !Self.excludedHeaders.contains($0.name) }.map { [$0.name.rawName, $0.value] }
        let bytes = body.readableBytesView
        if let text = String(validating: bytes, as: UTF8.self) {
            self.body = text
            self.base64 = false
        } else {
            self.body = Data(bytes).base64EncodedString()
            self.base64 = true
        }
        self.etag = ETag.strong(of: bytes)
        self.storedAt = storedAt
    }

    /// The body's bytes.
    var bodyBuffer: ByteBuffer {
        if base64 { return ByteBuffer(bytes: Data(base64Encoded: body) ?? Data()) }
        return ByteBuffer(string: body)
    }

    /// The stored headers as fields (pairs with an invalid name are skipped).
    var fields: HTTPFields {
        var fields = HTTPFields()
        for pair in headers where pair.count == 2 {
            if let name = HTTPField.Name(pair[0]) { fields.append(HTTPField(name: name, value: pair[1])) }
        }
        return fields
    }

    /// Its age in whole seconds at `now` (milliseconds since 1970).
    func age(at now: Int64) -> Int64 { max(0, (now - storedAt) / 1000) }
}

extension HTTPField.Name {
    /// `X-Cache`: `HIT`, `MISS`, `STALE` or `BYPASS`, as proxies and CDNs report it.
    static let xCache = HTTPField.Name("X-Cache")!
}
