import Foundation

/// Turns values into payload bytes and back. The default is JSON, readable from any language.
public protocol CacheSerializer: Sendable {
    /// Encodes `value`.
    func encode<T: Encodable>(_ value: T) throws -> [UInt8]
    /// Decodes a `T` from `bytes`.
    func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T
}

/// JSON through Foundation's coders.
public struct JSONCacheSerializer: CacheSerializer {
    /// A JSON serializer.
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try JSONEncoder().encode(value))
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
