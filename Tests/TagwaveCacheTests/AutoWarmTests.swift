import Logging
import Synchronization
import TagwaveRedis
import TagwaveTestSupport
import Testing

@testable import TagwaveCache

/// The seed's `getOrSet(…, { autoWarm })`: a key cached with it is computed again by its process
/// after an invalidation of one of its tags, whoever invalidated it.
@Suite("Auto-warming keys after their invalidation")
struct AutoWarmTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func next() -> Int { value.add(1, ordering: .relaxed).newValue }
        var count: Int { value.load(ordering: .relaxed) }
    }

    @Test func anAutoWarmedKeyIsComputedAgainAfterAnotherProcessInvalidatesItsTag() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.autoWarm = AutoWarmConfiguration(delay: .milliseconds(20))
            let app = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "app"))
            let following = Task { await app.run() }
            defer { following.cancel() }
            let other = TaggedCache(redis: server.client(), logger: Logger(label: "other"))
            let redis = server.client()
            try await eventually("the app subscribed") {
                try await redis.send(RedisCommand("PUBSUB", "NUMSUB", "tw:inval")).array?.last?.int == 1
            }

            let report = Counter(), plain = Counter()
            #expect(try await app.getOrSet("report", tags: ["team:1"], ttl: 60, autoWarm: true) { "report \(report.next())" } == "report 1")
            #expect(try await app.getOrSet("plain", tags: ["team:1"], ttl: 60) { "plain \(plain.next())" } == "plain 1")
            #expect(app.autoWarmedKeys == ["report"])

            // Another process invalidates the tag: the app computes the report again by itself.
            try await other.invalidate(tag: "team:1")
            try await eventually("the report warmed again") { try await other.get("report", as: String.self) == "report 2" }
            #expect(report.count == 2)
            #expect(try await other.get("plain", as: String.self) == nil, "a key without autoWarm waits for its next reader")
            #expect(plain.count == 1)

            // Again, and an invalidation of another tag leaves it alone.
            try await other.invalidate(tag: "team:2")
            try await other.invalidate(tag: "team:1")
            try await eventually("warmed a third time") { try await other.get("report", as: String.self) == "report 3" }
            try await Task.sleep(for: .milliseconds(200))
            #expect(report.count == 3)
        }
    }

    @Test func withoutTheConfigurationAutoWarmIsIgnored() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            _ = try await cache.getOrSet("k", tags: ["t"], ttl: 60, autoWarm: true) { 1 }
            #expect(cache.autoWarmedKeys.isEmpty)
        }
    }

    @Test func theRegistryForgetsTheFirstKeysPastItsBound() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.autoWarm = AutoWarmConfiguration(maxKeys: 3)
            let cache = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "t"))
            for n in 0..<5 { _ = try await cache.getOrSet("k\(n)", tags: ["t"], ttl: 60, autoWarm: true) { n } }
            _ = try await cache.getOrSet("k4", tags: ["t"], ttl: 60, autoWarm: true) { 4 }  // again: no duplicate
            #expect(cache.autoWarmedKeys == ["k2", "k3", "k4"])
        }
    }

    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await !condition() {
            try #require(ContinuousClock.now < deadline, "not reached within 20 s: \(what)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
