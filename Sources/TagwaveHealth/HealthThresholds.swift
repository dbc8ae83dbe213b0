/// When a figure makes the deployment degraded (warning) or unhealthy (critical).
///
/// The defaults are the seed's `DEFAULT_THRESHOLDS` (hit rate, error rate, Redis latency, memory use)
/// plus Tagwave's own for the stream and the dead-letter queue:
///
/// | figure | warning | critical | unit |
/// |---|---|---|---|
/// | cache hit rate | below 80 | below 60 | % of a cache's reads (from ``minimumReads`` reads up; see ``judgeKeyspaceHitRate``) |
/// | error rate | above 1 | above 5 | % of operations (judged from ``minimumOperations`` up) |
/// | Redis latency | above 10 | above 50 | ms, one `PING` round trip |
/// | Redis memory use | above 80 | above 95 | % of `maxmemory`, when one is set |
/// | consumer lag | above 10,000 | above 100,000 | stream entries not yet delivered to the group |
/// | pending | above 5,000 | above 50,000 | entries delivered and not acknowledged |
/// | dead letters | above 0 | above 1,000 | open entries in the dead-letter queue |
///
/// Lag and pending: a healthy pool keeps a few batches in hand (500 entries per consumer by
/// default) and drains a burst of thousands in well under a second, so 10,000 undelivered entries
/// mean the pool is falling behind, and 100,000 that it stopped. Any open dead letter needs a person,
/// hence degraded from the first; a thousand means a producer or a handler is broken.
///
/// ```swift
/// var thresholds = HealthThresholds()
/// thresholds.consumerLag = .init(warning: 1_000, critical: 20_000)
/// try thresholds.set("latency", "5/20")   // the form `tagwave health --threshold latency=5/20` takes
/// ```
public struct HealthThresholds: Sendable, Hashable, Codable {
    /// A warning and a critical level.
    public struct Levels: Sendable, Hashable, Codable {
        /// Crossing it makes the figure degraded.
        public var warning: Double
        /// Crossing it makes the figure unhealthy.
        public var critical: Double

        /// Levels.
        public init(warning: Double, critical: Double) {
            self.warning = warning
            self.critical = critical
        }
    }

    /// Cache hit rate in %, bad when below. Default 80 / 60.
    public var hitRate = Levels(warning: 80, critical: 60)
    /// Error rate in %, bad when above. Default 1 / 5.
    public var errorRate = Levels(warning: 1, critical: 5)
    /// Redis `PING` round trip in milliseconds, bad when above. Default 10 / 50.
    public var redisLatencyMilliseconds = Levels(warning: 10, critical: 50)
    /// Redis memory use in % of `maxmemory`, bad when above. Default 80 / 95.
    public var memoryUsage = Levels(warning: 80, critical: 95)
    /// Stream entries not yet delivered to the group, bad when above. Default 10,000 / 100,000.
    public var consumerLag = Levels(warning: 10_000, critical: 100_000)
    /// Entries delivered and not acknowledged, bad when above. Default 5,000 / 50,000.
    public var pending = Levels(warning: 5_000, critical: 50_000)
    /// Open dead letters, bad when above. Default 0 / 1,000.
    public var deadLetters = Levels(warning: 0, critical: 1_000)
    /// The hit rate is judged only over at least this many reads (a fresh cache has too few to mean
    /// anything). Default 100.
    public var minimumReads = 100
    /// Judge the hit rate also when it comes from Redis's keyspace counters (no cache's own counters
    /// were given). Default false: those count every read of every client of that Redis since it
    /// started, the workers' own lookups included (each tag never invalidated reads as a miss), so
    /// they are reported, not judged.
    public var judgeKeyspaceHitRate = false
    /// The error rate is judged only over at least this many operations (cache operations, or events
    /// handled in the last hour when the rate comes from the ledger): one poison event among three is
    /// not a 33 % failure rate. Default 100.
    public var minimumOperations = 100

    /// The defaults above.
    public init() {}

    /// The names ``set(_:_:)`` accepts.
    public static let names = ["hit-rate", "error-rate", "latency", "memory", "lag", "pending", "dead-letters"]

    /// Sets the levels of the figure `name` from text `warning/critical`, e.g. `set("lag", "1000/20000")`.
    ///
    /// - Parameters:
    ///   - name: one of ``names``.
    ///   - levels: `warning/critical`, two numbers.
    /// - Throws: ``HealthThresholdError`` naming what is wrong and what is accepted.
    public mutating func set(_ name: String, _ levels: String) throws {
        let parts = levels.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let warning = Double(parts[0]), let critical = Double(parts[1]) else {
            throw HealthThresholdError(
                description: "threshold \(name)=\(levels): write warning/critical, e.g. \(name)=\(Self.example(name))")
        }
        let value = Levels(warning: warning, critical: critical)
        switch name {
        case "hit-rate": hitRate = value
        case "error-rate": errorRate = value
        case "latency": redisLatencyMilliseconds = value
        case "memory": memoryUsage = value
        case "lag": consumerLag = value
        case "pending": pending = value
        case "dead-letters": deadLetters = value
        default:
            throw HealthThresholdError(
                description: "unknown threshold \(name): use one of \(Self.names.joined(separator: ", "))")
        }
    }

    private static func example(_ name: String) -> String {
        switch name {
        case "hit-rate": "80/60"
        case "error-rate": "1/5"
        case "latency": "10/50"
        case "memory": "80/95"
        case "lag": "10000/100000"
        case "pending": "5000/50000"
        default: "0/1000"
        }
    }
}

/// A threshold setting that cannot be read.
public struct HealthThresholdError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and what is accepted.
    public let description: String
}
