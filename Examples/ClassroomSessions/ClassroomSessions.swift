import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TagwaveCache
import TagwaveHealth
import TagwavePublisher
import TagwaveRedis
import UnixSignals

/// `tagwave-example`: the seed's classroom sessions API on Hummingbird, cached with Tagwave.
///
/// ```
/// tagwave-example --port 8080 --database .tagwave/sessions.sqlite     # REDIS_URL names Redis
/// curl 'http://127.0.0.1:8080/sessions?teacher=t1'                     # X-Cache: MISS, then HIT
/// curl -X POST http://127.0.0.1:8080/sessions -d '{"teacherId":"t1","schoolId":"s9","title":"Algebra"}'
/// ```
/// The POST writes a row and publishes `session.created`; a worker with the rule for it invalidates
/// `teacher:t1` (and warms `GET /sessions?teacher=t1` when its rule has a `warm:` target). With
/// `--invalidate-on-write` the service also invalidates the tag itself right after the write.
/// Cached GETs are counted as demand under their tags (``DemandRecorder``): a worker with
/// `warm.predictive` re-requests, after an invalidation, the lists asked for often.
@main
struct ClassroomSessions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagwave-example",
        abstract: "The seed's classroom sessions API: cached GETs, POSTs that publish session.created.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: a free one, printed as `listening on`).") var port = 8080
    @Option(help: "The SQLite file of sessions (created if missing).") var database = ".tagwave/sessions.sqlite"
    @Option(help: "Redis (default: REDIS_URL, else redis://127.0.0.1:6379/0).") var redisURL: String?
    @Option(help: "The stream events are published to.") var stream = "events"
    @Option(help: "A spool file keeping events while Redis is unreachable (none by default).") var spool: String?
    @Option(help: "The cache's key prefix (the worker's `cache.prefix`).") var prefix = "tw"
    @Flag(help: "Also invalidate the teacher's tag directly after a write (read-your-writes before the worker acts).")
    var invalidateOnWrite = false
    @Option(help: "Half-life in seconds of the recorded demand (predictive warming's memory).")
    var demandHalfLifeSeconds = 600

    func run() async throws {
        var logger = Logger(label: "classroom-sessions")
        logger.logLevel = .info
        let environment = ProcessInfo.processInfo.environment
        let redis = RedisClient(
            configuration: try RedisConfiguration(
                url: redisURL ?? environment["REDIS_URL"] ?? "redis://127.0.0.1:6379/0"),
            logger: logger)
        var cacheConfiguration = CacheConfiguration()
        cacheConfiguration.prefix = prefix
        cacheConfiguration.ttlPolicy = try CacheTTLPolicy.fromEnvironment(environment)
        let cache = TaggedCache(redis: redis, configuration: cacheConfiguration, logger: logger)
        var demandConfiguration = DemandConfiguration(prefix: prefix)
        demandConfiguration.halfLife = .seconds(demandHalfLifeSeconds)
        let demand = DemandRecorder(redis: redis, configuration: demandConfiguration, logger: logger)
        // The seed's startMonitoring(30000): CACHE_HEALTH_CHECK_INTERVAL milliseconds between checks.
        let checkInterval = environment["CACHE_HEALTH_CHECK_INTERVAL"].flatMap(Int.init).map { max($0, 100) } ?? 30_000
        let health = CacheHealthMonitor(
            cache: cache, stream: stream, interval: .milliseconds(checkInterval), logger: logger)
        let publisher = try Publisher(
            redis: redis, configuration: PublisherConfiguration(stream: stream, spoolPath: spool), logger: logger)
        let store = try await SessionStore.open(path: database)
        let application = Application(
            router: SessionsAPI.router(
                store: store, cache: cache, demand: demand, health: health, publisher: publisher, invalidateOnWrite: invalidateOnWrite, logger: logger),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "classroom-sessions"),
            onServerRunning: { channel in
                // Tests and scripts wait for this line.
                print("listening on http://\(host):\(channel.localAddress?.port ?? port)")
                fflush(nil)
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: PublisherDrain(publisher: publisher)), .init(service: health), .init(service: application),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        await demand.flush()
        await publisher.shutdown()
        await store.close()
        await redis.shutdown()
    }
}

/// Delivers spooled events while the service runs (``Publisher/run()``), until graceful shutdown.
struct PublisherDrain: Service {
    let publisher: Publisher

    func run() async throws {
        await cancelWhenGracefulShutdown { await publisher.run() }
    }
}
