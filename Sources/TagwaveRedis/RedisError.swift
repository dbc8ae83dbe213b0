/// An error from the Redis client: what went wrong, and what to do about it.
///
/// The ``code`` says which kind of failure it is (match on it); ``description`` is a sentence a
/// person can act on. Passwords never appear in either.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case connectionFailed
            case authenticationFailed
            case connectionLost
            case timeout
            case server
            case unexpectedReply
            case unavailable
            case shutDown
        }

        fileprivate let base: Base

        /// The URL or an option is malformed.
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// TCP connect failed (refused, unreachable, timed out).
        public static let connectionFailed = Code(base: .connectionFailed)
        /// AUTH was refused.
        public static let authenticationFailed = Code(base: .authenticationFailed)
        /// An established connection broke; the command's outcome is unknown.
        public static let connectionLost = Code(base: .connectionLost)
        /// The server did not answer within the command timeout; the outcome is unknown.
        public static let timeout = Code(base: .timeout)
        /// The server answered with an error reply (its text is in the description).
        public static let server = Code(base: .server)
        /// The server answered with a reply of a shape the caller did not expect.
        public static let unexpectedReply = Code(base: .unexpectedReply)
        /// The client is backing off after failed reconnects; the command was not sent.
        public static let unavailable = Code(base: .unavailable)
        /// The client was shut down.
        public static let shutDown = Code(base: .shutDown)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// The full sentence: what happened and what to do.
    public let message: String
    /// For ``Code/server`` errors: the server's own error text (`WRONGTYPE Operation against…`).
    public let serverMessage: String?
    /// Where the error was raised.
    public let file: String
    /// Where the error was raised.
    public let line: Int

    init(
        _ code: Code, _ message: String, serverMessage: String? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.serverMessage = serverMessage
        self.file = file
        self.line = line
    }

    public var description: String { message }

    /// True when the command may not have reached the server, or its outcome is unknown, because the
    /// connection failed: retrying later (after a reconnect) is the right response.
    public var isConnectionProblem: Bool {
        switch code.base {
        case .connectionFailed, .connectionLost, .timeout, .unavailable: return true
        default: return false
        }
    }

    /// True when the server replied `NOSCRIPT` (an `EVALSHA` of a script it does not know).
    var isNoScript: Bool { serverMessage?.hasPrefix("NOSCRIPT") ?? false }

    static func server(_ text: String, command: String, file: String = #fileID, line: Int = #line) -> RedisError {
        RedisError(.server, "Redis refused \(command): \(text)", serverMessage: text, file: file, line: line)
    }

    static func unexpected(_ reply: RedisReply, expected: String, file: String = #fileID, line: Int = #line)
        -> RedisError
    {
        RedisError(
            .unexpectedReply,
            "unexpected reply from Redis: expected \(expected), got \(reply.shortDescription)",
            file: file, line: line)
    }
}

extension RedisReply {
    /// A bounded rendering for error messages.
    var shortDescription: String {
        switch self {
        case .bulk(let bytes): return "bulk string of \(bytes.count) bytes"
        case .status(let text): return "status \(text)"
        case .integer(let value): return "integer \(value)"
        case .null: return "nil"
        case .array(let elements): return "array of \(elements.count)"
        case .error(let text): return "error \(text)"
        }
    }

    /// Throws the server's error when this is an error reply.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/server``.
    public func throwingServerError(command: String = "the command") throws -> RedisReply {
        if case .error(let text) = self { throw RedisError.server(text, command: command) }
        return self
    }
}
