import Foundation
import Logging
import TagwaveCache
import TagwaveHealth
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// The probe against a real Redis and a real ledger, in the conditions it must recognise.
@Suite("Health probes of a real Redis and ledger")
struct HealthProbeTests {
    let logger = Logger(label: "test.health")

    /// The defaults, but a latency the test machine's load cannot cross: these tests are not about it.
    static var thresholds: HealthThresholds {
        var thresholds = HealthThresholds()
        thresholds.redisLatencyMilliseconds = .init(warning: 10_000, critical: 10_000)
        return thresholds
    }

    let evaluator = HealthEvaluator(thresholds: Self.thresholds)

    func withLedger<T>(_ body: (Ledger) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tagwave-health-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ledger = try await Ledger.open(path: directory.appendingPathComponent("ledger.sqlite").path, logger: logger)
        do {
            let result = try await body(ledger)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }

    @Test func aRedisThatIsNotRunningMakesTheReportUnhealthyWithTheReason() async throws {
        let server = try await RedisServer.start()
        let configuration = server.configuration()
        server.stop()  // nothing listens on its port any more
        let redis = RedisClient(configuration: configuration, logger: logger)
        let sample = await HealthProbe(redis: redis, ledger: nil, logger: logger).sample()
        await redis.shutdown()
        #expect(sample.redisConnected == false)
        let report = evaluator.evaluate(sample)
        #expect(report.overall == .unhealthy)
        let reason = try #require(report.reasons.first)
        #expect(reason.component == "redis")
        #expect(reason.message.contains("127.0.0.1:\(configuration.port)"))
        #expect(reason.message.contains("unreachable"))
    }

    @Test func aStalledGroupWithGrowingLagAndPendingIsDegradedThenUnhealthy() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await withLedger { ledger in
                _ = try await redis.xgroupCreate("events", group: "invalidators", startID: "$")
                var thresholds = Self.thresholds
                thresholds.consumerLag = .init(warning: 20, critical: 100)
                thresholds.pending = .init(warning: 20, critical: 100)
                let evaluator = HealthEvaluator(thresholds: thresholds)
                let probe = HealthProbe(redis: redis, ledger: ledger, logger: logger)
                func publish(_ count: Int) async throws {
                    _ = try await redis.pipeline(
                        (0..<count).map { index in
                            RedisCommand.xadd(
                                "events",
                                fields: [
                                    StreamField("type", "session.created"), StreamField("payload", #"{"i":\#(index)}"#),
                                ])
                        })
                }

                try await publish(5)
                let first = await probe.sample()
                #expect(first.consumerLag == 5)
                // Nobody reads: the lag grows while the ledger records nothing.
                try await publish(5)
                let second = await probe.sample()
                let stalled = evaluator.evaluate(second, previous: first)
                #expect(stalled.overall == .degraded)
                #expect(stalled.reasons.contains { $0.message.contains("stalled") })

                try await publish(40)
                #expect(evaluator.evaluate(await probe.sample()).overall == .degraded)
                try await publish(100)
                let behind = evaluator.evaluate(await probe.sample())
                #expect(behind.overall == .unhealthy)
                #expect(behind.stream.lag == 150)

                // A consumer takes them and dies without acknowledging: pending instead of lag.
                _ = try await redis.xreadgroup(group: "invalidators", consumer: "dead", stream: "events", count: 1_000)
                let held = evaluator.evaluate(await probe.sample())
                #expect(held.stream.lag == 0)
                #expect(held.stream.pending == 150)
                #expect(held.overall == .unhealthy)
                #expect(held.reasons.first?.message.contains("not acknowledged") == true)
            }
            await redis.shutdown()
        }
    }

    @Test func aLowHitRateFromACachesOwnCountersIsUnhealthy() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: logger)
            try await cache.set("present", 1, tags: ["t"], ttl: 60)
            for index in 0..<150 { _ = try await cache.get("absent-\(index)", as: Int.self) }
            for _ in 0..<50 { _ = try await cache.get("present", as: Int.self) }
            let sample = await HealthProbe(redis: redis, ledger: nil, cacheStatistics: cache.statistics, logger: logger)
                .sample()
            #expect(sample.hitRateSource == .cache)
            #expect(sample.hits == 50 && sample.misses == 150)
            let report = evaluator.evaluate(sample)
            #expect(report.overall == .unhealthy)
            #expect(report.cache.hitRate == 25)
            #expect(report.reasons.contains { $0.component == "cache" && $0.message.contains("25 %") })
            await redis.shutdown()
        }
    }

    @Test func aHealthyDeploymentReportsRedisStreamAndLedgerFigures() async throws {
        try await RedisServer.with(arguments: ["--maxmemory", "1gb"]) { server in
            let redis = server.client()
            try await withLedger { ledger in
                _ = try await redis.xgroupCreate("events", group: "invalidators", startID: "$")
                _ = try await redis.xadd("events", fields: [StreamField("type", "a.b"), StreamField("payload", "{}")])
                _ = try await redis.xreadgroup(group: "invalidators", consumer: "w1", stream: "events", count: 10)
                let sample = await HealthProbe(redis: redis, ledger: ledger, logger: logger).sample()
                let report = evaluator.evaluate(sample)
                #expect(report.overall == .healthy, "\(report.reasons)")
                #expect(report.redis.connected && report.redis.latency != nil)
                #expect(report.redis.maxMemory == 1 << 30)
                #expect((report.redis.memoryUsage ?? 100) < 5)
                #expect(report.redis.keyCount == 1)
                #expect(report.stream.length == 1 && report.stream.pending == 1 && report.stream.consumers == 1)
                #expect(report.ledger.deadLetters == 0 && report.ledger.eventsPerSecond == 0)
            }
            await redis.shutdown()
        }
    }

    @Test func openDeadLettersInTheLedgerDegradeTheReport() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            try await withLedger { ledger in
                _ = try await redis.xgroupCreate("events", group: "invalidators", startID: "$")
                _ = try await ledger.record(
                    LedgerBatch(deadLetters: [
                        LedgerDeadLetter(
                            eventID: "1-0", stream: "events", streamID: "1-0",
                            fields: [.init(name: "payload", value: "[]")],
                            reasonCode: "missing_type", reason: "no type", attempts: 1, deadLetteredAt: .now(),
                            worker: "w1")
                    ]))
                let report = evaluator.evaluate(
                    await HealthProbe(redis: redis, ledger: ledger, logger: logger).sample())
                #expect(report.overall == .degraded)
                #expect(report.ledger.deadLetters == 1)
                #expect(report.reasons.map(\.component) == ["ledger"])
            }
            await redis.shutdown()
        }
    }

    @Test func aStreamWithoutItsGroupSaysNoWorkerHasStarted() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let missing = evaluator.evaluate(await HealthProbe(redis: redis, ledger: nil, logger: logger).sample())
            #expect(missing.overall == .degraded)
            #expect(missing.stream.problem?.contains("does not exist") == true)
            _ = try await redis.xadd("events", fields: [StreamField("type", "a.b"), StreamField("payload", "{}")])
            let noGroup = evaluator.evaluate(await HealthProbe(redis: redis, ledger: nil, logger: logger).sample())
            #expect(noGroup.stream.problem?.contains("no consumer group invalidators") == true)
            await redis.shutdown()
        }
    }
}
