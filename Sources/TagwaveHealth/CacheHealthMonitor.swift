import Logging
import ServiceLifecycle
import Synchronization
import TagwaveCache

/// The seed's `CacheHealthMonitor`, for an application that caches: its own hit and error rates
/// (the cache's counters, not Redis's keyspace figures), Redis latency and memory, and the
/// invalidation stream's lag, judged against ``HealthThresholds``.
///
/// ``checkHealth()`` samples now. As a `Service`, it samples every ``interval`` until graceful
/// shutdown, keeps the ``latest`` report for a health endpoint, and logs each change of the overall
/// status (a warning with the reasons when it worsens, a notice when it recovers). Rates are those
/// of the cache since the previous check, so a bad minute shows after a good hour.
///
/// ```swift
/// let monitor = CacheHealthMonitor(cache: cache, interval: .seconds(30), logger: logger)  // the seed's startMonitoring(30000)
/// router.get("health/cache") { _, _ in try JSONEncoder().encode(await monitor.checkHealth()) }
/// try await ServiceGroup(services: [monitor, app], logger: logger).run()
/// ```
public final class CacheHealthMonitor: Service, Sendable {
    /// Time between two checks of ``run()``.
    public let interval: Duration
    private let probe: HealthProbe
    private let statistics: CacheStatistics
    private let evaluator: HealthEvaluator
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var previous: (sample: HealthSample, counters: CacheStatistics.Snapshot)?
        var latest: HealthReport?
    }

    /// A monitor of `cache`.
    /// - Parameters:
    ///   - cache: the application's cache: its Redis and its counters.
    ///   - stream: the stream its invalidation events go to, for the lag of the workers behind it;
    ///     nil for an application that publishes none (the stream is then not judged).
    ///   - group: the workers' consumer group.
    ///   - thresholds: the levels (the seed's by default).
    ///   - interval: time between checks when it runs as a service (the seed's 30 s).
    ///   - logger: where status changes are logged.
    public init(
        cache: TaggedCache, stream: String? = "events", group: String = "invalidators",
        thresholds: HealthThresholds = HealthThresholds(), interval: Duration = .seconds(30), logger: Logger
    ) {
        self.probe = HealthProbe(redis: cache.redis, ledger: nil, stream: stream, group: group, logger: logger)
        self.statistics = cache.statistics
        self.evaluator = HealthEvaluator(thresholds: thresholds)
        self.interval = interval
        self.logger = logger
    }

    /// The report of the latest check; nil before the first.
    public var latest: HealthReport? { state.withLock { $0.latest } }

    /// Samples now and judges the sample: the cache's hit and error rates since the previous check
    /// (since the cache was made, at the first), Redis, and the stream.
    public func checkHealth() async -> HealthReport {
        var sample = await probe.sample()
        let counters = statistics.snapshot
        let previous = state.withLock { $0.previous }
        let since = previous?.counters
        func delta(_ path: WritableKeyPath<CacheStatistics.Snapshot, Int>) -> Int { counters[keyPath: path] - (since?[keyPath: path] ?? 0) }
        // The counters of the stretch since the previous check.
        var stretch = counters
        for path: WritableKeyPath<CacheStatistics.Snapshot, Int> in [
            \.hits, \.misses, \.sets, \.invalidations, \.errors, \.staleServed, \.memoryHits, \.redisReads,
        ] {
            stretch[keyPath: path] = delta(path)
        }
        stretch.redisReadSeconds = counters.redisReadSeconds - (since?.redisReadSeconds ?? 0)
        sample.takeRates(of: stretch)
        let report = evaluator.evaluate(sample, previous: previous?.sample)
        state.withLock {
            $0.previous = (sample, counters)
            $0.latest = report
        }
        return report
    }

    /// Checks every ``interval`` until graceful shutdown or cancellation, logging changes of status.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var status: HealthStatus?
            while !Task.isCancelled {
                let report = await self.checkHealth()
                if report.overall != status {
                    let reasons = report.reasons.map(\.message).joined(separator: "; ")
                    if report.overall == .healthy {
                        if status != nil { self.logger.notice("cache health: healthy again") }
                    } else {
                        self.logger.warning("cache health: \(report.overall.rawValue): \(reasons)")
                    }
                    status = report.overall
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }
}
