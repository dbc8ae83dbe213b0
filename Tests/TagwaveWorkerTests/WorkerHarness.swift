import Foundation
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// A worker in this process against a real Redis and a real ledger file, with the rules the tests use.
struct WorkerHarness {
    let server: RedisServer
    let redis: RedisClient
    let ledger: Ledger
    let ledgerPath: String
    let cache: TaggedCache

    static let rules: [InvalidationRule] = [
        InvalidationRule(eventType: "session.created", invalidate: [try! TagTemplate("teacher:{teacherId}"), try! TagTemplate("school:{schoolId}:sessions")])
    ]

    static func with<T>(
        arguments: [String] = [], username: String? = nil, password: String? = nil, poolSize: Int = 4,
        _ body: (WorkerHarness) async throws -> T
    ) async throws -> T {
        try await RedisServer.with(arguments: arguments) { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-worker-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("ledger.sqlite").path
            var configuration = server.configuration(username: username, password: password)
            configuration.poolSize = poolSize
            let redis = RedisClient(configuration: configuration, logger: Logger(label: "test.redis"))
            let ledger = try await Ledger.open(path: path, logger: Logger(label: "test.ledger"))
            let harness = WorkerHarness(
                server: server, redis: redis, ledger: ledger, ledgerPath: path, cache: TaggedCache(redis: redis, logger: Logger(label: "test.cache")))
            let result = try await body(harness)
            await ledger.close()
            await redis.shutdown()
            return result
        }
    }

    func worker(
        consumer: String = "w1", deliveryLimit: Int = 5, claimIdle: Duration = .seconds(60), trimInterval: Duration? = nil,
        concurrency: Int = 1, batchSize: Int? = nil, rules: [InvalidationRule] = Self.rules
    ) -> Worker {
        var configuration = WorkerConfiguration(consumer: consumer)
        configuration.concurrency = concurrency
        if let batchSize { configuration.batchSize = batchSize }
        configuration.trimInterval = trimInterval
        configuration.block = .milliseconds(50)
        configuration.deliveryLimit = deliveryLimit
        configuration.initialRetryDelay = .milliseconds(20)
        configuration.maxRetryDelay = .milliseconds(100)
        configuration.claimIdle = claimIdle
        var logger = Logger(label: "test.worker")
        logger.logLevel = .warning
        return Worker(redis: redis, ledger: ledger, cache: cache, configuration: configuration, rules: rules, logger: logger)
    }

    /// Appends an event the way any producer would: a plain XADD of the envelope's fields.
    @discardableResult
    func publish(type: String?, payload: String, id: String? = nil, extra: [StreamField] = []) async throws -> StreamID {
        var fields: [StreamField] = []
        if let type { fields.append(StreamField("type", type)) }
        fields.append(StreamField("payload", payload))
        if let id { fields.append(StreamField("id", id)) }
        return try await redis.xadd("events", fields: fields + extra)
    }

    func processedCount() async throws -> Int {
        try await ledger.events(filter: LedgerEventFilter(status: .processed, limit: 1_000_000)).count
    }

    /// Waits until `condition` holds, polling; fails the wait after `timeout`.
    func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        struct Timeout: Error, CustomStringConvertible { var description: String { "condition not met in time" } }
        throw Timeout()
    }

    /// The group's last delivered entry: entries up to it that are not pending were acknowledged.
    func lastDeliveredID() async throws -> StreamID {
        let reply = try await redis.send(RedisCommand("XINFO", "GROUPS", "events"))
        let fields = reply.array?.first?.array ?? []
        let index = try #require(fields.firstIndex { $0.string == "last-delivered-id" })
        return try #require(fields[index + 1].string.flatMap(StreamID.init))
    }

    func pending() async throws -> Int64 {
        try await redis.xpendingSummary("events", group: "invalidators").count
    }
}
