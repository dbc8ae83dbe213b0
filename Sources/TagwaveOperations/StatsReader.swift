import Logging
import TagwaveHealth
import TagwaveLedger
import TagwaveRedis

/// The figures of `tagwave stats`: throughput from the ledger, the stream's lag and pending and the
/// hit rate from Redis, the dead-letter queue.
public struct OperationsStatistics: Sendable, Hashable, Encodable {
    /// Throughput.
    public struct Throughput: Sendable, Hashable, Encodable {
        /// Events recorded in the last minute.
        public var eventsLastMinute: Int
        /// Events per second over the last minute.
        public var eventsPerSecondLastMinute: Double
        /// Events recorded in the last hour.
        public var eventsLastHour: Int
        /// Events per second over the last hour.
        public var eventsPerSecondLastHour: Double
        /// Entries dead-lettered in the last hour.
        public var deadLetteredLastHour: Int
        /// The newest event's receive time.
        public var newestEventAt: String?
    }

    /// The stream and its group.
    public struct Stream: Sendable, Hashable, Encodable {
        /// The field name.
        public var name: String
        /// The consumer group.
        public var group: String
        /// Entries in the stream.
        public var length: Int?
        /// Entries not yet delivered to the group.
        public var lag: Int?
        /// Entries delivered and not acknowledged.
        public var pending: Int?
        /// Consumers in the group.
        public var consumers: Int?
        /// Why the stream or group could not be read.
        public var problem: String?
    }

    /// The dead-letter queue.
    public struct DeadLetters: Sendable, Hashable, Encodable {
        /// Open dead letters.
        public var open: Int
        /// Retried dead letters.
        public var retried: Int
        /// Purged dead letters.
        public var purged: Int
        /// Open dead letters by reason code.
        public var openByReason: [String: Int]
    }

    /// Cache reads (Redis keyspace hits and misses since Redis started, every client).
    public struct Cache: Sendable, Hashable, Encodable {
        /// Keyspace hits.
        public var hits: Int?
        /// Keyspace misses.
        public var misses: Int?
        /// %.
        public var hitRate: Double?
        /// Keys in the database.
        public var keyCount: Int?
        /// Redis `used_memory` in bytes.
        public var usedMemory: Int?
    }

    /// When the figures were taken (RFC 3339).
    public var takenAt: String
    /// Throughput.
    public var throughput: Throughput
    /// The stream.
    public var stream: Stream
    /// The dead-letter queue.
    public var deadLetters: DeadLetters
    /// Cache reads.
    public var cache: Cache
    /// Replay runs in progress.
    public var runningReplays: Int
}

/// Reads ``OperationsStatistics``.
public struct StatsReader: Sendable {
    let redis: any RedisCommanding
    let ledger: Ledger
    let stream: String
    let group: String
    let logger: Logger

    /// A reader.
    public init(redis: any RedisCommanding, ledger: Ledger, stream: String, group: String, logger: Logger) {
        self.redis = redis
        self.ledger = ledger
        self.stream = stream
        self.group = group
        self.logger = logger
    }

    /// The figures now.
    ///
    /// - Throws: ``OperationsError`` (`unavailable`) when Redis cannot be reached; ``LedgerError``.
    public func read() async throws -> OperationsStatistics {
        let sample = await HealthProbe(redis: redis, ledger: nil, stream: stream, group: group, logger: logger).sample()
        guard sample.redisConnected else {
            throw OperationsError(
                .unavailable,
                "Redis at \(redis.address) is unreachable: \(sample.redisError ?? "no answer"); check that it runs and "
                    + "REDIS_URL/--config (the ledger alone: `tagwave events list`)")
        }
        let statistics = try await ledger.statistics()
        return OperationsStatistics(
            takenAt: statistics.takenAt.description,
            throughput: .init(
                eventsLastMinute: statistics.eventsLastMinute,
                eventsPerSecondLastMinute: Self.rounded(statistics.eventsPerSecondLastMinute),
                eventsLastHour: statistics.eventsLastHour,
                eventsPerSecondLastHour: Self.rounded(statistics.eventsPerSecondLastHour),
                deadLetteredLastHour: statistics.deadLetteredLastHour,
                newestEventAt: statistics.newestReceivedAt?.description),
            stream: .init(
                name: stream, group: group, length: sample.streamLength, lag: sample.consumerLag,
                pending: sample.pending,
                consumers: sample.consumers, problem: sample.streamProblem),
            deadLetters: .init(
                open: statistics.deadLetters.open, retried: statistics.deadLetters.retried,
                purged: statistics.deadLetters.purged,
                openByReason: statistics.deadLetters.openByReason),
            cache: .init(
                hits: sample.hits, misses: sample.misses, hitRate: sample.hitRate.map(Self.rounded),
                keyCount: sample.keyCount,
                usedMemory: sample.usedMemory),
            runningReplays: statistics.runningReplays)
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
