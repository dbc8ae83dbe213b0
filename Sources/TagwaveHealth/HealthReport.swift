import Foundation

/// The verdict of one health check: overall healthy, degraded or unhealthy, with the reasons and the
/// figures, in the shape of the seed's health endpoint.
///
/// Encoded as JSON (`tagwave health --json`, the admin server's `GET /health`), absent figures are `null`:
///
/// ```json
/// {
///   "overall": "degraded",
///   "reasons": [{"component": "ledger", "status": "degraded", "message": "3 dead letters wait …"}],
///   "checkedAt": "2024-05-01T12:00:00.000Z",
///   "redis": {"connected": true, "address": "127.0.0.1:6379", "latency": 0.31, "memoryUsage": null,
///             "usedMemory": 1048576, "maxMemory": 0, "keyCount": 1247, "error": null},
///   "cache": {"hitRate": 94.5, "errorRate": 0.1, "hits": 24419, "misses": 1428, "totalOperations": 25847,
///             "hitRateSource": "redis", "errorRateSource": "ledger"},
///   "stream": {"name": "events", "group": "invalidators", "length": 52000, "lag": 0, "pending": 12,
///              "consumers": 2, "problem": null},
///   "ledger": {"deadLetters": 3, "eventsPerSecond": 812.5, "error": null}
/// }
/// ```
/// `latency` is in milliseconds, `memoryUsage` in % of `maxmemory` (null without a limit), rates in %.
public struct HealthReport: Sendable, Hashable, Codable {
    /// Why the deployment is not healthy: one figure beyond a threshold, or one part unreachable.
    public struct Reason: Sendable, Hashable, Codable {
        /// `redis`, `cache`, `stream` or `ledger`.
        public var component: String
        /// How bad it is.
        public var status: HealthStatus
        /// What is wrong and what to look at, for a person.
        public var message: String

        /// A reason.
        public init(component: String, status: HealthStatus, message: String) {
            self.component = component
            self.status = status
            self.message = message
        }
    }

    /// Redis figures.
    public struct Redis: Sendable, Hashable, Codable {
        /// True when Redis answered `PING`.
        public var connected: Bool
        /// `host:port`.
        public var address: String?
        /// One `PING` round trip, in milliseconds.
        public var latency: Double?
        /// Memory use in % of `maxmemory`; null without a limit.
        public var memoryUsage: Double?
        /// `used_memory` in bytes.
        public var usedMemory: Int?
        /// `maxmemory` in bytes; 0 means no limit.
        public var maxMemory: Int?
        /// Keys in the database (`DBSIZE`).
        public var keyCount: Int?
        /// Why it could not be reached or read.
        public var error: String?

        /// Redis figures.
        public init(
            connected: Bool, address: String? = nil, latency: Double? = nil, memoryUsage: Double? = nil,
            usedMemory: Int? = nil,
            maxMemory: Int? = nil, keyCount: Int? = nil, error: String? = nil
        ) {
            self.connected = connected
            self.address = address
            self.latency = latency
            self.memoryUsage = memoryUsage
            self.usedMemory = usedMemory
            self.maxMemory = maxMemory
            self.keyCount = keyCount
            self.error = error
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(connected, forKey: .connected)
            try container.encode(address, forKey: .address)
            try container.encode(latency, forKey: .latency)
            try container.encode(memoryUsage, forKey: .memoryUsage)
            try container.encode(usedMemory, forKey: .usedMemory)
            try container.encode(maxMemory, forKey: .maxMemory)
            try container.encode(keyCount, forKey: .keyCount)
            try container.encode(error, forKey: .error)
        }
    }

    /// Cache figures.
    public struct Cache: Sendable, Hashable, Codable {
        /// Hits in % of reads.
        public var hitRate: Double?
        /// Errors in % of operations.
        public var errorRate: Double?
        /// Hits counted by `hitRateSource`.
        public var hits: Int?
        /// Misses counted by `hitRateSource`.
        public var misses: Int?
        /// Operations counted (a cache's reads, writes and invalidations; else the reads).
        public var totalOperations: Int?
        /// Where the hit rate came from: `cache`, `redis` (keyspace, not judged by default).
        public var hitRateSource: HealthSample.RateSource?
        /// Where the error rate came from: `cache` or `ledger` (dead-lettered events).
        public var errorRateSource: HealthSample.RateSource?
        /// The mean time of a cache read that went to Redis, in milliseconds (the seed's
        /// `avgResponseTime`); only from a cache's own counters.
        public var avgResponseTime: Double?

        /// Cache figures.
        public init(
            hitRate: Double? = nil, errorRate: Double? = nil, hits: Int? = nil, misses: Int? = nil,
            totalOperations: Int? = nil,
            hitRateSource: HealthSample.RateSource? = nil, errorRateSource: HealthSample.RateSource? = nil,
            avgResponseTime: Double? = nil
        ) {
            self.avgResponseTime = avgResponseTime
            self.hitRate = hitRate
            self.errorRate = errorRate
            self.hits = hits
            self.misses = misses
            self.totalOperations = totalOperations
            self.hitRateSource = hitRateSource
            self.errorRateSource = errorRateSource
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(hitRate, forKey: .hitRate)
            try container.encode(errorRate, forKey: .errorRate)
            try container.encode(hits, forKey: .hits)
            try container.encode(misses, forKey: .misses)
            try container.encode(totalOperations, forKey: .totalOperations)
            try container.encode(hitRateSource, forKey: .hitRateSource)
            try container.encode(errorRateSource, forKey: .errorRateSource)
            try container.encode(avgResponseTime, forKey: .avgResponseTime)
        }
    }

    /// Stream figures.
    public struct Stream: Sendable, Hashable, Codable {
        /// The stream.
        public var name: String
        /// The consumer group.
        public var group: String
        /// Entries in the stream.
        public var length: Int?
        /// Entries not yet delivered to the group.
        public var lag: Int?
        /// Entries delivered to the group and not acknowledged.
        public var pending: Int?
        /// Consumers in the group.
        public var consumers: Int?
        /// Why the stream or group could not be read.
        public var problem: String?

        /// Stream figures.
        public init(
            name: String, group: String, length: Int? = nil, lag: Int? = nil, pending: Int? = nil,
            consumers: Int? = nil,
            problem: String? = nil
        ) {
            self.name = name
            self.group = group
            self.length = length
            self.lag = lag
            self.pending = pending
            self.consumers = consumers
            self.problem = problem
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(group, forKey: .group)
            try container.encode(length, forKey: .length)
            try container.encode(lag, forKey: .lag)
            try container.encode(pending, forKey: .pending)
            try container.encode(consumers, forKey: .consumers)
            try container.encode(problem, forKey: .problem)
        }
    }

    /// Ledger figures.
    public struct Ledger: Sendable, Hashable, Codable {
        /// Open dead letters.
        public var deadLetters: Int?
        /// Events recorded per second over the last minute.
        public var eventsPerSecond: Double?
        /// Why it could not be reached or read.
        public var error: String?

        /// Ledger figures.
        public init(deadLetters: Int? = nil, eventsPerSecond: Double? = nil, error: String? = nil) {
            self.deadLetters = deadLetters
            self.eventsPerSecond = eventsPerSecond
            self.error = error
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(deadLetters, forKey: .deadLetters)
            try container.encode(eventsPerSecond, forKey: .eventsPerSecond)
            try container.encode(error, forKey: .error)
        }
    }

    /// The worst status among the reasons; healthy when there is none.
    public var overall: HealthStatus
    /// Why it is not healthy, worst first.
    public var reasons: [Reason]
    /// When the sample was taken, RFC 3339.
    public var checkedAt: String
    /// Redis figures.
    public var redis: Redis
    /// Cache figures.
    public var cache: Cache
    /// Stream and group figures.
    public var stream: Stream
    /// Ledger figures.
    public var ledger: Ledger

    /// A report.
    public init(
        overall: HealthStatus, reasons: [Reason], checkedAt: String, redis: Redis, cache: Cache, stream: Stream,
        ledger: Ledger
    ) {
        self.overall = overall
        self.reasons = reasons
        self.checkedAt = checkedAt
        self.redis = redis
        self.cache = cache
        self.stream = stream
        self.ledger = ledger
    }
}
