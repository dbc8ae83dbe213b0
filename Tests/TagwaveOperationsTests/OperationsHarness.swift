import Foundation
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker

/// A real Redis, a real ledger file and, to fill it, a real worker in this process.
struct OperationsHarness {
    let server: RedisServer
    let redis: RedisClient
    let ledger: Ledger
    let cache: TaggedCache
    let logger: Logger

    static let rules: [InvalidationRule] = [
        InvalidationRule(
            eventType: "session.created",
            invalidate: [try! TagTemplate("teacher:{teacherId}"), try! TagTemplate("school:{schoolId}:sessions")],
            warm: [try! TagTemplate("http://127.0.0.1:9/sessions?teacher={teacherId}")])
    ]

    static func with<T>(arguments: [String] = [], _ body: (OperationsHarness) async throws -> T) async throws -> T {
        try await RedisServer.with(arguments: arguments) { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tagwave-ops-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var configuration = server.configuration()
            configuration.poolSize = 4
            var logger = Logger(label: "test.operations")
            logger.logLevel = .warning
            let redis = RedisClient(configuration: configuration, logger: logger)
            let ledger = try await Ledger.open(
                path: directory.appendingPathComponent("ledger.sqlite").path, logger: logger)
            let harness = OperationsHarness(
                server: server, redis: redis, ledger: ledger, cache: TaggedCache(redis: redis, logger: logger),
                logger: logger)
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

    /// Appends events the way any producer does: plain XADDs of the envelope's fields, one pipeline.
    func publish(_ events: [(type: String?, payload: String, id: String?)]) async throws {
        _ = try await redis.pipeline(
            events.map { event in
                var fields: [StreamField] = []
                if let type = event.type { fields.append(StreamField("type", type)) }
                fields.append(StreamField("payload", event.payload))
                if let id = event.id { fields.append(StreamField("id", id)) }
                fields.append(StreamField("source", "api"))
                return RedisCommand.xadd("events", fields: fields)
            })
    }

    /// `count` session.created events `e0…`, teachers `t0…t9`, schools `s0…s2`.
    func publishSessions(_ count: Int, from first: Int = 0) async throws {
        try await publish(
            (first..<first + count).map { index in
                ("session.created", #"{"teacherId":"t\#(index % 10)","schoolId":"s\#(index % 3)"}"#, "e\(index)")
            })
    }

    /// Runs a worker with the harness's rules until `recorded` events and `deadLetters` dead letters are in the ledger.
    func runWorker(untilProcessed recorded: Int, deadLetters: Int = 0) async throws {
        var configuration = WorkerConfiguration(consumer: "w1")
        configuration.block = .milliseconds(20)
        configuration.trimInterval = nil
        configuration.batchSize = 100
        let worker = Worker(
            redis: redis, ledger: ledger, cache: cache, configuration: configuration, rules: Self.rules, logger: logger)
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        try await eventually {
            let processed = try await ledger.countEvents(matching: LedgerEventSelection(statuses: [.processed]))
            let letters = try await ledger.deadLetters(matching: LedgerDeadLetterFilter(limit: 1_000)).count
            return processed >= recorded && letters >= deadLetters
        }
    }

    /// Waits until `condition` holds, polling.
    func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        struct Timeout: Error, CustomStringConvertible { var description: String { "condition not met in time" } }
        throw Timeout()
    }

    /// Everything in Redis, to compare before and after.
    func snapshot() async throws -> [String: String] {
        try await redis.keyspaceSnapshot()
    }

    /// The current version of `tag` in the cache protocol (absent reads 0).
    func version(of tag: String) async throws -> Int64 {
        try await redis.cacheTagVersion(tag)
    }
}
