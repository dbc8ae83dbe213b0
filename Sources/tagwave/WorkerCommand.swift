import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import TagwaveCache
import TagwaveConfig
import TagwaveLedger
import TagwaveRedis
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
            redisConfiguration.poolSize = max(redisConfiguration.poolSize, 3)
            redisConfiguration.clientName = "tagwave-worker-\(settings.worker.consumer)".replacingOccurrences(of: " ", with: "-")
            let redis = RedisClient(configuration: redisConfiguration, logger: logger)
            let ledger = try await Ledger.open(path: settings.ledgerPath, logger: logger)
            let cache = TaggedCache(redis: redis, configuration: settings.cache, logger: logger)
            let worker = Worker(
                redis: redis, ledger: ledger, cache: cache, configuration: settings.worker, rules: settings.rules, logger: logger)
            logger.info("tagwave worker \(settings.worker.consumer): \(settings.rules.count) rules, Redis \(settings.redis.redactedURL), ledger \(settings.ledgerPath)")
            var groupConfiguration = ServiceGroupConfiguration(
                // Shut down in reverse order: the worker drains first, then the reclaimer stops.
                services: [.init(service: CacheReclaimer(cache: cache, logger: logger)), .init(service: worker)],
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
