import Foundation
import Logging
import Synchronization
import TagwaveRedis
import TagwaveTestSupport
import Testing

@testable import TagwaveCache

/// Counts factory runs across tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    var count: Int { value.load(ordering: .relaxed) }
}

struct FactoryFailure: Error, Equatable {}

@Suite("getOrSet: cache-aside, stampede protection and fail-safe")
struct GetOrSetTests {
    @Test func aMissRunsTheFactoryAndAHitDoesNot() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let runs = Counter()
            for _ in 0..<3 {
                let value = try await cache.getOrSet("sessions:teacher:1", tags: ["teacher:1"], ttl: "session-list") {
                    runs.increment()
                    return [Session(id: "s1", title: "Algebra")]
                }
                #expect(value == [Session(id: "s1", title: "Algebra")])
            }
            #expect(runs.count == 1)
            #expect(cache.statistics.snapshot.hits == 2)
            #expect(cache.statistics.snapshot.misses == 1)
        }
    }

    @Test func twoHundredConcurrentCallsOnAColdKeyRunTheFactoryOnce() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let runs = Counter()
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<200 {
                    group.addTask {
                        try await cache.getOrSet("cold", tags: ["t"], ttl: 60) {
                            runs.increment()
                            try await Task.sleep(for: .milliseconds(50))
                            return "computed"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(runs.count == 1)
            #expect(values.count == 200 && values.allSatisfy { $0 == "computed" })
        }
    }

    @Test func aFailingFactoryServesTheStaleCopyWithinMaxStale() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.maxStale = .seconds(30)
            let cache = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "t"))
            _ = try await cache.getOrSet("report", tags: ["r"], ttl: .duration(.milliseconds(100))) { "v1" }
            try await Task.sleep(for: .milliseconds(150))
            let served = try await cache.getOrSet("report", tags: ["r"], ttl: 60) { () async throws -> String in throw FactoryFailure() }
            #expect(served == "v1")
            #expect(cache.statistics.snapshot.staleServed == 1)
            #expect(cache.statistics.snapshot.errors == 1)
        }
    }

    @Test func aFailingFactoryWithoutAStaleCopyPropagatesItsError() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            await #expect(throws: FactoryFailure.self) {
                try await cache.getOrSet("report", tags: ["r"], ttl: 60) { () async throws -> String in throw FactoryFailure() }
            }
            // An invalidated copy is never served, even as a fail-safe.
            var configuration = CacheConfiguration()
            configuration.maxStale = .seconds(30)
            let failSafe = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "t"))
            _ = try await failSafe.getOrSet("report", tags: ["r"], ttl: 60) { "v1" }
            try await failSafe.invalidate(tag: "r")
            await #expect(throws: FactoryFailure.self) {
                try await failSafe.getOrSet("report", tags: ["r"], ttl: 60) { () async throws -> String in throw FactoryFailure() }
            }
        }
    }

    @Test func anUnreachableRedisFallsBackToTheFactoryWithinTheCommandTimeout() async throws {
        let closed = try ClosedPort()
        defer { withExtendedLifetime(closed) {} }  // refusing connections until the test ends
        let port = closed.port
        var redisConfiguration = RedisConfiguration(host: "127.0.0.1", port: port)
        redisConfiguration.connectTimeout = .milliseconds(200)
        // Long, so that waiting for it cannot pass for queueing: a refused connection is known at
        // once, and no call may wait for the command timeout (alone a call takes milliseconds;
        // beside the whole suite on two cores, each await may queue behind hundreds of tasks for
        // seconds).
        redisConfiguration.commandTimeout = .seconds(10)
        let cache = TaggedCache(redis: RedisClient(configuration: redisConfiguration, logger: Logger(label: "t")), logger: Logger(label: "t"))
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let value = try await cache.getOrSet("k", tags: ["t"], ttl: 60) { "from the database" }
            #expect(value == "from the database")
            #expect(ContinuousClock.now - started < redisConfiguration.commandTimeout)
        }
        #expect(cache.statistics.snapshot.errors == 3)

        var strict = CacheConfiguration()
        strict.onRedisFailure = .fail
        let failing = TaggedCache(redis: RedisClient(configuration: redisConfiguration, logger: Logger(label: "t")), configuration: strict, logger: Logger(label: "t"))
        let error = await #expect(throws: CacheError.self) { try await failing.getOrSet("k", tags: ["t"], ttl: 60) { "x" } }
        #expect(error?.code == .redis)
    }

    @Test func largeValuesAreCompressedAndReadBack() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            let sessions = (0..<500).map { Session(id: "s\($0)", title: "Session number \($0) of the algebra course") }
            try await cache.set("big", sessions, tags: ["teacher:1"], ttl: 60)
            let stored = try await redis.send(RedisCommand("GET", "tw:e:big")).bytes ?? []
            let plain = try JSONCacheSerializer().encode(sessions)
            #expect(stored.count < plain.count / 3)
            #expect(String(decoding: stored.prefix(40), as: UTF8.self).contains(" z 1\n"))
            #expect(try await cache.get("big", as: [Session].self, tags: ["teacher:1"]) == sessions)
        }
    }

    @Test func theTTLPolicyHasTheSeedsClassesAndHonoursCacheDefaultTTL() throws {
        let policy = try CacheTTLPolicy.fromEnvironment(["CACHE_DEFAULT_TTL": "120"])
        #expect(policy.duration(for: "session-list") == .seconds(300))
        #expect(policy.duration(for: "school-data") == .seconds(3600))
        #expect(policy.duration(for: .default) == .seconds(120))
        #expect(policy.duration(for: "unknown-class") == .seconds(120))
        #expect(throws: CacheError.self) { try CacheTTLPolicy.fromEnvironment(["CACHE_DEFAULT_TTL": "soon"]) }
    }
}

@Suite("Memory tier")
struct MemoryTierTests {
    @Test func anInvalidationByAnotherInstanceEvictsTheMemoryTierWithinMilliseconds() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.memoryTier = MemoryTierConfiguration(maxEntries: 100, maxBytes: 1 << 20)
            let a = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "a"))
            let b = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "b"))
            let coherence = Task { await a.run() }
            defer { coherence.cancel() }
            try await Task.sleep(for: .milliseconds(200))  // subscribed
            _ = try await a.getOrSet("k", tags: ["teacher:1"], ttl: 60) { "v1" }
            _ = try await a.get("k", as: String.self, tags: ["teacher:1"])
            #expect(a.statistics.snapshot.memoryHits >= 1)
            #expect(a.memoryTierUsage.entries == 1)

            try await b.invalidate(tag: "teacher:1")
            let deadline = ContinuousClock.now + .seconds(2)
            while a.memoryTierUsage.entries > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            #expect(a.memoryTierUsage.entries == 0)
            #expect(try await a.get("k", as: String.self, tags: ["teacher:1"]) == nil)
        }
    }

    @Test func theMemoryTierIsBoundedByEntriesAndBytes() {
        let tier = MemoryTier(configuration: MemoryTierConfiguration(maxEntries: 3, maxBytes: 100))
        for index in 0..<5 { tier.set("k\(index)", value: index, tags: ["t"], bytes: 10, freshFor: .seconds(60)) }
        #expect(tier.count == 3)
        #expect(tier.get("k0", as: Int.self) == nil && tier.get("k4", as: Int.self) == 4)
        tier.set("huge", value: 0, tags: [], bytes: 95, freshFor: .seconds(60))
        #expect(tier.bytes <= 100)
        tier.evict(tags: ["t"])
        #expect(tier.get("k4", as: Int.self) == nil)
    }

    @Test func aLostRedisConnectionClearsTheMemoryTier() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.memoryTier = MemoryTierConfiguration()
            let cache = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "t"))
            let coherence = Task { await cache.run() }
            defer { coherence.cancel() }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await cache.getOrSet("k", tags: ["t"], ttl: 60) { "v" }
            #expect(cache.memoryTierUsage.entries == 1)
            server.kill()
            let deadline = ContinuousClock.now + .seconds(3)
            while cache.memoryTierUsage.entries > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(cache.memoryTierUsage.entries == 0)
        }
    }
}
