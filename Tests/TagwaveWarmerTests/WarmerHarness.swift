import Foundation
import Logging
import ServiceLifecycle
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWarmer
import TagwaveWorker

/// Workers and warmers in this process against a real Redis, a real ledger file and a real local
/// HTTP server.
struct WarmerHarness {
    let server: RedisServer
    let redis: RedisClient
    let ledger: Ledger
    let cache: TaggedCache
    let http: TestHTTPServer

    static func with<T>(_ body: (WarmerHarness) async throws -> T) async throws -> T {
        try await RedisServer.with { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tagwave-warmer-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let redis = client(server)
            let ledger = try await Ledger.open(
                path: directory.appendingPathComponent("ledger.sqlite").path, logger: Logger(label: "test.ledger"))
            let http = try TestHTTPServer()
            defer { http.stop() }
            let harness = WarmerHarness(
                server: server, redis: redis, ledger: ledger,
                cache: TaggedCache(redis: redis, logger: Logger(label: "test.cache")), http: http)
            do {
                let result = try await body(harness)
                await ledger.close()
                await redis.shutdown()
                return result
            } catch {
                await ledger.close()
                await redis.shutdown()
                throw error
            }
        }
    }

    static func client(_ server: RedisServer) -> RedisClient {
        var configuration = server.configuration()
        configuration.poolSize = 4
        return RedisClient(configuration: configuration, logger: Logger(label: "test.redis"))
    }

    /// `http://127.0.0.1:<port><path>` on the test server.
    func url(_ path: String) -> String { "http://127.0.0.1:\(http.port)\(path)" }

    func warmer(
        owner: String = "w1", redis: RedisClient? = nil, delay: Duration = .milliseconds(50), window: Duration? = nil,
        timeout: Duration = .seconds(2), retries: Int = 2, ratePerSecond: Double? = nil, predictive: PredictiveWarming? = nil
    ) -> Warmer {
        var configuration = WarmerConfiguration(owner: owner)
        configuration.delay = delay
        configuration.window = window
        configuration.timeout = timeout
        configuration.connectTimeout = timeout
        configuration.retries = retries
        configuration.initialBackoff = .milliseconds(20)
        configuration.maxBackoff = .milliseconds(50)
        configuration.ratePerSecond = ratePerSecond
        configuration.shutdownGrace = .milliseconds(200)
        configuration.predictive = predictive
        var logger = Logger(label: "test.warmer")
        logger.logLevel = .warning
        return Warmer(redis: redis ?? self.redis, ledger: ledger, configuration: configuration, logger: logger)
    }

    func worker(
        consumer: String = "w1", redis: RedisClient? = nil, rules: [InvalidationRule], warmer: Warmer,
        batchSize: Int = 500
    ) -> Worker {
        var configuration = WorkerConfiguration(consumer: consumer)
        configuration.trimInterval = nil
        configuration.block = .milliseconds(50)
        configuration.batchSize = batchSize
        var logger = Logger(label: "test.worker")
        logger.logLevel = .warning
        let redis = redis ?? self.redis
        return Worker(
            redis: redis, ledger: ledger, cache: TaggedCache(redis: redis, logger: Logger(label: "test.cache")),
            configuration: configuration, rules: rules, warmer: warmer, logger: logger)
    }

    /// Runs `services` in one `ServiceGroup` (shut down in reverse order, like the daemon) while
    /// `body` runs, then shuts them down gracefully and waits for them.
    func running<T>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
        var logger = Logger(label: "test.group")
        logger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger))
        let run = Task { try await group.run() }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            try await run.value
            return result
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await run.value
            throw error
        }
    }

    /// Appends events the way any producer would (plain XADDs), in one pipeline.
    func publish(_ events: [(type: String, payload: String, id: String)]) async throws {
        let commands = events.map {
            RedisCommand(
                "XADD", "events", "*", "type", RedisArgument($0.type), "payload", RedisArgument($0.payload), "id",
                RedisArgument($0.id))
        }
        let replies = try await redis.pipeline(commands)
        if let failure = replies.first(where: { $0.errorMessage != nil }) {
            throw TestFailure("XADD failed: \(failure)")
        }
    }

    func processedCount() async throws -> Int {
        try await ledger.events(filter: LedgerEventFilter(status: .processed, limit: 1_000_000)).count
    }

    func pending() async throws -> Int64 {
        try await redis.xpendingSummary("events", group: "invalidators").count
    }

    /// Waits until `condition` holds, polling; fails after `timeout`.
    func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("not reached within \(timeout): \(what)")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A rule for `session.created` that invalidates `teacher:{teacherId}` and warms `warm`.
func sessionRule(warm: [String]) throws -> InvalidationRule {
    InvalidationRule(
        eventType: "session.created", invalidate: [try TagTemplate("teacher:{teacherId}")],
        warm: try warm.map { try TagTemplate($0) })
}
