import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TagwaveCache
import TagwaveHealth
import TagwaveLedger
import TagwaveMetrics
import TagwaveRedis
import TagwaveWorker

/// The worker's admin HTTP server (Hummingbird): health, Prometheus metrics, a JSON API over the
/// ledger, and a dashboard page. A `Service`: add it to the daemon's `ServiceGroup`.
///
/// | endpoint | answers |
/// |---|---|
/// | `GET /` | the dashboard (charts, recent events, dead letters; no token needed: it holds no data) |
/// | `GET /health` | the seed's health JSON; `200` healthy or degraded, `503` unhealthy |
/// | `GET /metrics` | Prometheus text (``MetricSeries/all``) |
/// | `GET /api/events?limit=&type=&status=&tag=` | recent events with their outcomes and tags, newest first |
/// | `GET /api/events/:id` | one event: payload, outcomes, warm jobs, dead-letter history |
/// | `GET /api/dead-letters?status=&limit=` | the dead-letter queue (`open` by default, or `all`) |
///
/// Events and dead letters have the shape `tagwave events … --json` and `tagwave dlq list --json`
/// print (`EventView`, `DeadLetterView` of `TagwaveOperations`).
/// | `GET /api/stats` | the latest figures and the charts' history |
///
/// It listens on loopback by default; with a token, every endpoint but `/` needs
/// `Authorization: Bearer <token>`, and it refuses to start on any other address without one.
///
/// ```swift
/// let admin = try AdminServer(
///     configuration: AdminConfiguration(bind: "127.0.0.1:9477"), redis: redis, ledger: adminLedger,
///     worker: worker, cache: cache, logger: logger)
/// try await ServiceGroup(services: [worker, admin], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
public final class AdminServer: Service, Sendable {
    /// Where it listens and who may ask.
    public let configuration: AdminConfiguration
    /// The Prometheus registry `/metrics` renders; record more series into ``PrometheusExporter/factory``.
    public let exporter: PrometheusExporter
    let redis: any RedisCommanding
    let ledger: Ledger
    let worker: Worker?
    let probe: HealthProbe
    let evaluator: HealthEvaluator
    let monitor: AdminMonitor
    let logger: Logger
    private let port = Mutex<Int?>(nil)

    /// An admin server.
    ///
    /// - Parameters:
    ///   - configuration: bind address, token, sampling, thresholds.
    ///   - redis: the Redis holding the stream and the cache.
    ///   - ledger: the ledger to read. Give the server a ledger of its own (``Ledger/open(path:logger:options:)``
    ///     on the worker's file): its queries then never queue behind the worker's commits.
    ///   - worker: the worker it reports on (its stream, group and counters); nil for a standalone server.
    ///   - cache: the worker's cache, for its memory-tier figures.
    ///   - exporter: the registry `/metrics` renders (a new one by default).
    ///   - warmJobs: the warmer's counters, when the worker warms.
    ///   - logger: where it logs.
    /// - Throws: ``AdminError/Code/tokenRequired`` for a non-loopback address without a token.
    public init(
        configuration: AdminConfiguration, redis: any RedisCommanding, ledger: Ledger, worker: Worker? = nil,
        cache: TaggedCache? = nil, exporter: PrometheusExporter = PrometheusExporter(),
        warmJobs: (@Sendable () -> AdminStats.WarmJobs)? = nil, logger: Logger
    ) throws(AdminError) {
        try configuration.validate()
        var logger = logger
        logger[metadataKey: "tagwave.admin"] = "\(configuration.address)"
        self.configuration = configuration
        self.exporter = exporter
        self.redis = redis
        self.ledger = ledger
        self.worker = worker
        self.logger = logger
        let stream = worker?.configuration.stream ?? configuration.stream
        let group = worker?.configuration.group ?? configuration.group
        // The worker process's own cache only invalidates; its hit rate is not the services'.
        probe = HealthProbe(
            redis: redis, ledger: ledger, stream: stream, group: group, cacheStatistics: nil, logger: logger)
        evaluator = HealthEvaluator(thresholds: configuration.thresholds)
        monitor = AdminMonitor(
            probe: probe, evaluator: evaluator, worker: worker, cache: cache, ledger: ledger,
            metrics: WorkerMetrics(factory: exporter.factory), warmJobs: warmJobs,
            interval: configuration.sampleInterval,
            historyLength: configuration.historyLength, stream: stream, group: group, logger: logger)
    }

    /// The port it listens on once started (useful with port 0); nil before.
    public var boundPort: Int? { port.withLock { $0 } }

    /// Serves until graceful shutdown, sampling figures meanwhile.
    ///
    /// When the address cannot be bound (another worker on the host has it), it logs an error and
    /// waits for shutdown without serving, so the worker beside it keeps running.
    public func run() async throws {
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { [self] channel in
                let bound = channel.localAddress?.port ?? configuration.port
                port.withLock { $0 = bound }
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                logger.notice("admin server listening on http://\(host):\(bound)/ (dashboard), /health, /metrics, /api")
            },
            logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [monitor] in await monitor.run() }
            do {
                try await application.run()
            } catch  where boundPort == nil {
                // The worker matters more than its dashboard: several workers on one host with the
                // default address must not take each other down.
                let advice = "give each worker on this host its own admin.bind (TAGWAVE_ADMIN_BIND), or `off`"
                logger.error(
                    "admin server not started: cannot listen on \(configuration.address): \(error); \(advice). The worker runs on without it"
                )
                try? await gracefulShutdown()
            }
        }
    }
}
