import Foundation
import TagwaveCache

/// The figures one health check gathered (``HealthProbe/sample()``), before they are judged
/// (``HealthEvaluator/evaluate(_:previous:)``). A figure that could not be read is nil.
public struct HealthSample: Sendable, Hashable {
    /// Where the hit and error rates came from.
    public enum RateSource: String, Sendable, Hashable, Codable {
        /// A cache instance's own counters (hits, misses, errors of its operations).
        case cache
        /// Redis `INFO stats` keyspace hits and misses (every client of that Redis, since its start).
        case redis
        /// The ledger: entries dead-lettered as a share of entries handled in the last hour.
        case ledger
    }

    /// When it was taken.
    public var takenAt: Date
    /// Redis's address, for messages (`127.0.0.1:6379`).
    public var redisAddress: String?
    /// True when Redis answered `PING`.
    public var redisConnected: Bool
    /// Why Redis could not be reached or read.
    public var redisError: String?
    /// One `PING` round trip.
    public var redisLatency: Duration?
    /// Redis `used_memory` in bytes (on a cluster, of the primary closest to its `maxmemory`).
    public var usedMemory: Int?
    /// Redis `maxmemory` in bytes, 0 for no limit (on a cluster, of that same primary).
    public var maxMemory: Int?
    /// Keys in the selected database (`DBSIZE`; on a cluster, every primary's together).
    public var keyCount: Int?
    /// The stream.
    public var stream: String
    /// The consumer group.
    public var group: String
    /// Entries in the stream.
    public var streamLength: Int?
    /// Entries not yet delivered to the group (`XINFO GROUPS` lag).
    public var consumerLag: Int?
    /// Entries delivered to the group and not acknowledged.
    public var pending: Int?
    /// Consumers in the group.
    public var consumers: Int?
    /// Why the stream or group could not be read (no stream yet, no group).
    public var streamProblem: String?
    /// Cache hits counted by ``hitRateSource``.
    public var hits: Int?
    /// Cache misses counted by ``hitRateSource``.
    public var misses: Int?
    /// Hits as a percentage of reads.
    public var hitRate: Double?
    /// Where ``hits``, ``misses`` and ``hitRate`` came from.
    public var hitRateSource: RateSource?
    /// Errors as a percentage of operations.
    public var errorRate: Double?
    /// Where ``errorRate`` came from.
    public var errorRateSource: RateSource?
    /// How many operations (or handled events) ``errorRate`` was computed over.
    public var errorRateBasis: Int?
    /// Cache operations counted (reads, writes, invalidations), when a cache's counters were given.
    public var totalOperations: Int?
    /// The mean time of a cache read that went to Redis, in milliseconds (a cache's own counters).
    public var averageReadMilliseconds: Double?
    /// Open dead letters (ledger).
    public var deadLetters: Int?
    /// Events recorded per second over the last minute (ledger).
    public var eventsPerSecond: Double?
    /// Events recorded in the last minute (ledger).
    public var eventsLastMinute: Int?
    /// The newest ledger sequence number: a later sample with the same one recorded nothing meanwhile.
    public var latestSeq: Int64?
    /// Why the ledger could not be read.
    public var ledgerError: String?

    /// A sample with nothing measured yet.
    public init(takenAt: Date = Date(), stream: String = "events", group: String = "invalidators") {
        self.takenAt = takenAt
        self.redisConnected = false
        self.stream = stream
        self.group = group
    }

    /// Redis memory use as a percentage of `maxmemory`; nil when no limit is set.
    public var memoryUsage: Double? {
        guard let usedMemory, let maxMemory, maxMemory > 0 else { return nil }
        return Double(usedMemory) * 100 / Double(maxMemory)
    }

    /// Reads the hit rate is computed from.
    public var reads: Int? {
        guard let hits, let misses else { return nil }
        return hits + misses
    }

    /// The PING round trip in milliseconds.
    public var redisLatencyMilliseconds: Double? {
        redisLatency.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }
    }
}

extension HealthSample {
    /// Takes the hit and error rates, counts and mean read time from a cache's own counters.
    mutating func takeRates(of counters: CacheStatistics.Snapshot) {
        hits = counters.hits
        misses = counters.misses
        hitRate = counters.hitRate
        hitRateSource = .cache
        errorRate = counters.errorRate
        errorRateSource = .cache
        totalOperations = counters.hits + counters.misses + counters.sets + counters.invalidations
        errorRateBasis = totalOperations
        averageReadMilliseconds = counters.averageReadMilliseconds
    }
}
