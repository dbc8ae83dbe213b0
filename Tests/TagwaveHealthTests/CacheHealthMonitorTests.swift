import Logging
import ServiceLifecycle
import TagwaveCache
import TagwaveHealth
import TagwaveRedis
import TagwaveTestSupport
import Testing

/// The application's own monitor (the seed's CacheHealthMonitor) on a real Redis: it judges the
/// cache's reads since its previous check, not Redis's keyspace figures since Redis started.
@Suite("The cache health monitor of an application")
struct CacheHealthMonitorTests {
    static var thresholds: HealthThresholds {
        var thresholds = HealthThresholds()
        thresholds.redisLatencyMilliseconds = .init(warning: 10_000, critical: 10_000)  // not about the host's load
        thresholds.minimumReads = 10
        return thresholds
    }

    @Test func aBadStretchOfMissesIsUnhealthyAndAGoodOneAfterItHealthyAgain() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let monitor = CacheHealthMonitor(cache: cache, stream: nil, thresholds: Self.thresholds, logger: Logger(label: "t"))
            #expect(monitor.latest == nil)

            // 20 reads, 2 hits: 10 %.
            try await cache.set("a", 1, tags: ["t"], ttl: 60)
            for index in 0..<20 { _ = try await cache.get(index < 2 ? "a" : "missing:\(index)", as: Int.self) }
            let bad = await monitor.checkHealth()
            #expect(bad.overall == .unhealthy, "\(bad.reasons)")
            #expect(bad.cache.hitRate == 10 && bad.cache.hitRateSource == .cache)
            #expect(bad.reasons.contains { $0.message.contains("cache hit rate is 10 % over 20 reads") })
            #expect(bad.redis.connected)
            // The seed's avgResponseTime: the mean Redis read of the stretch, a fraction of a millisecond here.
            #expect(bad.cache.avgResponseTime.map { $0 > 0 && $0 < 1000 } == true, "\(bad.cache)")

            // The next 30 reads all hit: judged on their own, healthy, whatever came before.
            for _ in 0..<30 { _ = try await cache.get("a", as: Int.self) }
            let good = await monitor.checkHealth()
            #expect(good.overall == .healthy, "\(good.reasons)")
            #expect(good.cache.hitRate == 100 && good.cache.hits == 30 && good.cache.misses == 0)
            #expect(monitor.latest == good)
        }
    }

    @Test func runningItChecksEveryIntervalUntilShutdown() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            // An application that publishes: its stream's workers are judged too.
            try await server.client().xgroupCreate("events", group: "invalidators", startID: "$")
            let monitor = CacheHealthMonitor(
                cache: cache, thresholds: Self.thresholds, interval: .milliseconds(50), logger: Logger(label: "t"))
            let group = ServiceGroup(services: [monitor], logger: Logger(label: "t"))
            let running = Task { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while monitor.latest == nil {
                try #require(ContinuousClock.now < deadline, "the monitor never checked")
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(monitor.latest?.overall == .healthy)
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }
}
