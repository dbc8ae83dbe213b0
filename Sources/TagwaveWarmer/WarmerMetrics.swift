/// Counters of a running ``Warmer`` since it was created, for a health monitor or metrics exporter.
///
/// Every request (one target asked for by one event) ends in exactly one of ``coalesced``,
/// ``succeeded``, ``failed``, ``skipped`` or ``dropped``, or is still ``pending``:
/// `scheduled == coalesced + succeeded + failed + skipped + dropped + pending`.
public struct WarmerMetrics: Sendable, Hashable, Codable {
    /// Requests received through ``Warmer/schedule(targets:eventID:)``, and those predictive warming
    /// made (counted in ``predicted`` too).
    public var scheduled = 0
    /// Requests predictive warming made from recorded demand after invalidations.
    public var predicted = 0
    /// Demand forecasts that failed (Redis did not answer); their tags were not followed.
    public var forecastFailures = 0
    /// Requests covered by another request's job in the same window (this worker's or another's).
    public var coalesced = 0
    /// Jobs whose warmer succeeded.
    public var succeeded = 0
    /// Jobs that failed on every attempt, or could not run at all (unknown name, bad target).
    public var failed = 0
    /// Jobs dropped at shutdown before they were due.
    public var skipped = 0
    /// Requests dropped without a ledger row: the queue was full or the warmer had stopped.
    public var dropped = 0
    /// Requests and jobs not finished yet.
    public var pending = 0
    /// Attempts made (HTTP GETs sent and closures called), retries included.
    public var attempts = 0
    /// Attempts that failed and were retried.
    public var retried = 0
    /// Duration of the final attempt of succeeded jobs: the time the backend took to warm.
    public var latency = Latency()

    /// Creates zeroed counters.
    public init() {}

    /// A running summary of durations.
    public struct Latency: Sendable, Hashable, Codable {
        /// How many durations were added.
        public var count = 0
        /// Their sum, in seconds.
        public var totalSeconds = 0.0
        /// The longest, in seconds.
        public var maxSeconds = 0.0
        /// The latest, in seconds.
        public var lastSeconds = 0.0

        /// Creates an empty summary.
        public init() {}

        /// The mean in seconds; 0 when empty.
        public var meanSeconds: Double { count == 0 ? 0 : totalSeconds / Double(count) }

        mutating func add(_ duration: Duration) {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            count += 1
            totalSeconds += seconds
            maxSeconds = max(maxSeconds, seconds)
            lastSeconds = seconds
        }
    }
}
