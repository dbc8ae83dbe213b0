import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import TagwaveAdmin
import TagwaveCache
import TagwaveConfig
import TagwaveLedger
import TagwaveRedis
import TagwaveWarmer
import TagwaveWorker

/// `tagwave worker`: the daemon.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run an invalidation worker: one consumer of the group, until SIGTERM or SIGINT.",
        discussion: """
            Example: tagwave worker --config /etc/tagwave/worker.yaml --consumer $(hostname)-1
            A bad configuration is refused at start with file, line and reason (exit 78). On SIGTERM the worker stops \
            reading, finishes its batch, commits, acknowledges and exits 0 within --drain-seconds.
            """)

    @Option(help: "The YAML configuration (default: TAGWAVE_CONFIG).") var config: String?
    @Option(help: "This daemon's consumer name, stable across restarts (default: stream.consumer, TAGWAVE_CONSUMER or the host name).")
    var consumer: String?
    @Option(help: "Seconds to finish the batch in hand after SIGTERM before exiting anyway.") var drainSeconds = 20
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String?

    func run() async throws {
        Tagwave.bootstrapLogging(level: logLevel.flatMap(Logger.Level.init(rawValue:)))
        let logger = Logger(label: "tagwave.worker")
        let settings: TagwaveConfiguration
        do {
            settings = try ConfigurationLoader.load(path: config, environment: ProcessInfo.processInfo.environment, consumer: consumer)
        } catch let error as ConfigurationError {
            printError(error.description)
            throw ExitCodes.configError
        }
        try await reportingErrors {
            var redisConfiguration = settings.redis
            // Each consumer holds one connection in its blocking read and one for its invalidation or
            // acknowledgement; the reclaimer and the warmer's claims share the rest.
            redisConfiguration.poolSize = max(redisConfiguration.poolSize, 2 * settings.worker.concurrency + 2)
            redisConfiguration.clientName = "tagwave-worker-\(settings.worker.consumer)".replacingOccurrences(of: " ", with: "-")
            var connection = settings
            connection.redis = redisConfiguration  // a cluster's nodes take these settings too
            let redis: any RedisCommanding =
                settings.redisCluster.isEmpty
                ? RedisClient(configuration: redisConfiguration, logger: logger)
                : RedisClusterClient(seeds: connection.clusterSeeds, logger: logger)
            let ledger = try await Ledger.open(path: settings.ledgerPath, logger: logger)
            let cache = TaggedCache(redis: redis, configuration: settings.cache, logger: logger)
            let warmer = Warmer(
                redis: redis, ledger: ledger, configuration: WarmerConfiguration(settings), logger: Logger(label: "tagwave.warmer"))
            var workerConfiguration = settings.worker
            workerConfiguration.retention = .seconds(settings.retentionDays * 86_400)
            let worker = Worker(
                redis: redis, ledger: ledger, cache: cache, configuration: workerConfiguration, rules: settings.rules, warmer: warmer,
                logger: logger)
            // Health, metrics, the JSON API and the dashboard, unless `admin.bind` is off; it stops last.
            let admin = try await Self.adminServer(settings, redis: redis, worker: worker, cache: cache, warmer: warmer, logger: logger)
            let redisDescription =
                settings.redisCluster.isEmpty
                ? settings.redis.redactedURL : "cluster " + settings.clusterSeeds.map(\.redactedURL).joined(separator: ",")
            logger.info("tagwave worker \(settings.worker.consumer): \(settings.rules.count) rules, Redis \(redisDescription), ledger \(settings.ledgerPath)")
            var groupConfiguration = ServiceGroupConfiguration(
                // Shut down in reverse order: the worker drains first (its last batch may still schedule warming), then
                // the warmer drops the jobs not yet due and lets running ones finish, then the reclaimer stops.
                services: (admin.map { [.init(service: $0)] } ?? []) + [
                    .init(service: CacheReclaimer(cache: cache, logger: logger)), .init(service: warmer), .init(service: worker),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger)
            // The drain deadline: a batch still in hand after it is cancelled (its entries stay pending).
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(drainSeconds)
            try await ServiceGroup(configuration: groupConfiguration).run()
            await ledger.close()
            await redis.shutdown()
        }
    }
}

/// Reclaims invalidated cache entries in the background, a bounded chunk per Redis call.
struct CacheReclaimer: Service {
    let cache: TaggedCache
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let removed = try await cache.reclaim(maxSets: 100)
                if removed > 0 { logger.debug("reclaimed \(removed) invalidated cache entries") }
            } catch {
                logger.debug("reclaim paused: \(error)")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension WarmerConfiguration {
    /// The daemon's warmer: named after the consumer, claims under the cache's prefix, and the
    /// `warm:` section's settings over the warmer's defaults.
    init(_ settings: TagwaveConfiguration) {
        self.init(owner: settings.worker.consumer)
        prefix = settings.cache.prefix
        let warm = settings.warm
        if let delay = warm.delay { self.delay = delay }
        if let window = warm.window { self.window = window }
        if let concurrency = warm.concurrency { self.concurrency = concurrency }
        if let rate = warm.ratePerSecond { ratePerSecond = rate > 0 ? rate : nil }
        if let timeout = warm.timeout { self.timeout = timeout }
        if let connectTimeout = warm.connectTimeout { self.connectTimeout = connectTimeout }
        if let retries = warm.retries { self.retries = retries }
        if let backoff = warm.initialBackoff { initialBackoff = backoff }
        if let record = warm.recordCoalesced { recordCoalesced = record }
        if let settings = warm.predictive {
            var predictive = PredictiveWarming(baseURL: settings.baseURL)
            if let minimum = settings.minimumPerMinute { predictive.minimumPerMinute = minimum }
            if let maximum = settings.maximumPerTag { predictive.maximumPerTag = maximum }
            self.predictive = predictive
        }
    }
}
