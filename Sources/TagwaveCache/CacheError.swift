/// An error of the tagged cache, saying what went wrong and what to do.
public struct CacheError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure. New kinds may be added: keep a default branch when matching.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Base: String, Sendable { case invalidTag, invalidKey, corruptEntry, serialization, leaseTimeout, redis }
        fileprivate let base: Base
        /// A tag is empty or contains a newline, `{` or `}`.
        public static let invalidTag = Code(base: .invalidTag)
        /// A key is empty or contains a newline.
        public static let invalidKey = Code(base: .invalidKey)
        /// An entry in Redis is not in the documented format.
        public static let corruptEntry = Code(base: .corruptEntry)
        /// The value could not be encoded or decoded by the serializer.
        public static let serialization = Code(base: .serialization)
        /// Waiting for another process computing the same key took longer than the lease.
        public static let leaseTimeout = Code(base: .leaseTimeout)
        /// Redis failed; the underlying ``TagwaveRedis/RedisError`` is the cause.
        public static let redis = Code(base: .redis)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What happened and what to do.
    public let message: String
    /// The error that caused this one, if any.
    public let underlying: (any Error)?

    init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
