/// A reply from Redis, decoded from hiredis's reply tree into Swift values.
///
/// Bulk strings are bytes, not `String`: values are binary safe (NUL bytes, compressed payloads).
/// An error reply inside a pipeline or a transaction is a value (``RedisReply/error(_:)``); a single
/// command answered with an error throws ``RedisError`` with the server's own text instead.
public enum RedisReply: Sendable, Hashable {
    /// A bulk string: any bytes.
    case bulk([UInt8])
    /// A status reply such as `OK` or `QUEUED`.
    case status(String)
    /// An integer reply.
    case integer(Int64)
    /// The nil reply (missing key, timed-out blocking read).
    case null
    /// A multi-bulk reply.
    case array([RedisReply])
    /// An error reply, with the server's text (`NOSCRIPT No matching script…`).
    case error(String)
}

extension RedisReply {
    /// The bytes of a bulk string or the text of a status reply; nil otherwise.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): return bytes
        case .status(let text): return Array(text.utf8)
        default: return nil
        }
    }

    /// The bulk string or status decoded as UTF-8 (invalid sequences repaired); nil otherwise.
    public var string: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        default: return nil
        }
    }

    /// The integer value of an integer reply, or of a bulk string holding a decimal integer.
    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulk(let bytes): return Int64(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    /// The elements of an array reply; nil otherwise.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// True for the nil reply.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The server's text when this is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
