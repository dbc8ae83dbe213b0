import TagwaveHealth
import TagwaveWorker

/// `GET /api/stats`: the latest figures and their recent history, which the dashboard charts.
public struct AdminStats: Sendable, Hashable, Codable {
    /// One sample of the history.
    public struct Point: Sendable, Hashable, Codable {
        /// When it was taken, in milliseconds since 1970.
        public var time: Int64
        /// Events processed per second since the previous sample.
        public var eventsPerSecond: Double
        /// Entries not yet delivered to the group.
        public var lag: Int?
        /// Entries delivered and not acknowledged.
        public var pending: Int?
        /// Cache hit rate (%) of the reads since the previous sample; nil when there were none.
        public var hitRate: Double?
        /// Failures since the previous sample: dead-lettered, retried and lost events.
        public var errors: Int
        /// Open dead letters.
        public var deadLetters: Int?
    }

    /// Warm jobs by outcome, from the worker's warmer.
    public struct WarmJobs: Sendable, Hashable, Codable {
        /// Warm requests received.
        public var scheduled: Int
        /// Jobs that warmed their target.
        public var succeeded: Int
        /// Jobs that failed on every attempt.
        public var failed: Int
        /// Requests covered by another request's job.
        public var coalesced: Int
        /// Requests dropped (queue full, shutting down).
        public var dropped: Int
        /// Requests predictive warming made from recorded demand (among ``scheduled``).
        public var predicted: Int

        /// Counts.
        public init(
            scheduled: Int = 0, succeeded: Int = 0, failed: Int = 0, coalesced: Int = 0, dropped: Int = 0, predicted: Int = 0
        ) {
            self.scheduled = scheduled
            self.succeeded = succeeded
            self.failed = failed
            self.coalesced = coalesced
            self.dropped = dropped
            self.predicted = predicted
        }
    }

    /// The consumer this server belongs to; nil for an admin server without a worker.
    public var consumer: String?
    /// The stream.
    public var stream: String
    /// The consumer group.
    public var group: String
    /// When the server started (RFC 3339).
    public var startedAt: String
    /// Seconds since then.
    public var uptimeSeconds: Double
    /// The overall health at the latest sample.
    public var overall: HealthStatus?
    /// Why it is not healthy, worst first (the health report's reasons).
    public var reasons: [String]
    /// The worker's counters since it started.
    public var progress: WorkerProgress?
    /// The warmer's counters.
    public var warm: WarmJobs?
    /// Entries in the stream.
    public var streamLength: Int?
    /// Entries not yet delivered to the group.
    public var lag: Int?
    /// Entries delivered and not acknowledged.
    public var pending: Int?
    /// Consumers in the group.
    public var consumers: Int?
    /// Open dead letters.
    public var deadLetters: Int?
    /// Cache hit rate (%) as the health check reads it.
    public var hitRate: Double?
    /// Where ``hitRate`` comes from: `cache`, `redis` (keyspace, every client) or `ledger`.
    public var hitRateSource: String?
    /// Events per second over the latest interval.
    public var eventsPerSecond: Double
    /// The latest Redis `PING`, in milliseconds.
    public var redisLatencyMilliseconds: Double?
    /// Entries in this process's memory tier.
    public var memoryTierEntries: Int?
    /// Seconds between two samples of ``history``.
    public var sampleIntervalSeconds: Double
    /// The samples of the last minutes, oldest first.
    public var history: [Point]
}
