/// An operator's request that cannot be carried out: what is wrong and what to do instead.
///
/// Match on ``code``; ``description`` is the sentence to print. Redis and ledger failures keep their
/// own types (`RedisError`, `LedgerError`, `CacheError`): the CLI maps those to "unavailable".
public struct OperationsError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: match with `==`, keep a default branch.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable, Hashable {
            case notFound, invalidInput, usage, unavailable
        }

        fileprivate let base: Base

        /// What was asked for does not exist (an unknown event id, dead letter or replay run).
        public static let notFound = Code(base: .notFound)
        /// A value given is malformed (a time, a payload, a stream id).
        public static let invalidInput = Code(base: .invalidInput)
        /// The request itself is incomplete or contradictory (no range to replay; purge without confirmation).
        public static let usage = Code(base: .usage)
        /// Something the request needs cannot be reached (Redis for a verb that needs it).
        public static let unavailable = Code(base: .unavailable)

        /// The code's name.
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What is wrong and what to do.
    public let message: String
    /// The source file that raised it (`#fileID`).
    public let file: String
    /// The line that raised it.
    public let line: Int

    /// An error.
    public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { message }
}
