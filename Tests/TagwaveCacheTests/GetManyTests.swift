import Logging
import TagwaveRedis
import TagwaveTestSupport
import Testing

@testable import TagwaveCache

/// Batched reads and writes: many keys in two round trips, with exactly the answers of one `get`
/// or `set` per key.
@Suite("Reading and writing many keys at once")
struct GetManyTests {
    @Test func manyKeysAreReadInTwoRoundTripsWithTheAnswersOfOneGetEach() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            for n in 0..<100 {
                try await cache.set("profile:\(n)", "user \(n)", tags: ["user:\(n)", "team:\(n % 5)"], ttl: 60)
            }
            try await cache.invalidate(tag: "team:3")  // twenty entries made unreadable
            try await cache.set("short", "gone soon", tags: ["user:0"], ttl: .duration(.milliseconds(1)))
            try await Task.sleep(for: .milliseconds(20))
            let keys = (0..<100).map { "profile:\($0)" } + ["never-written", "short"]

            let before = redis.roundTrips
            let values = try await cache.getMany(keys, as: String.self)
            #expect(redis.roundTrips - before == 2)
            #expect(values.count == keys.count)
            for n in 0..<100 {
                #expect(values[n] == (n % 5 == 3 ? nil : "user \(n)"), "profile:\(n)")
            }
            #expect(values[100] == nil && values[101] == nil)
            // The same answers one get per key gives.
            for (key, value) in zip(keys, values) { #expect(try await cache.get(key, as: String.self) == value, "\(key)") }
            let counted = cache.statistics.snapshot
            #expect(counted.hits == 2 * 80 && counted.misses == 2 * 22)
        }
    }

    @Test func aValueOfAnotherTypeIsAnErrorThatNamesTheKey() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            try await cache.set("n", 42, tags: ["t"], ttl: 60)
            let error = await #expect(throws: CacheError.self) { try await cache.getMany(["n"], as: [String].self) }
            #expect(error?.code == .serialization && error?.description.contains("n") == true)
            #expect(try await cache.getMany([], as: Int.self).isEmpty)
        }
    }

    @Test func manyItemsAreWrittenInTwoRoundTripsAndAnInvalidationReachesThemAll() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            try await cache.invalidate(tag: "team:1")  // a tag with a version already
            let items = (0..<50).map { (key: "profile:\($0)", value: "user \($0)", tags: ["user:\($0)", "team:\($0 % 2)"]) }
            let before = redis.roundTrips
            try await cache.setMany(items, ttl: 60)
            #expect(redis.roundTrips - before == 2)
            #expect(try await cache.getMany(items.map(\.key), as: String.self) == items.map(\.value))
            try await cache.invalidate(tag: "team:1")
            let after = try await cache.getMany(items.map(\.key), as: String.self)
            #expect(after == items.indices.map { $0 % 2 == 1 ? nil : "user \($0)" })
            let refused = await #expect(throws: CacheError.self) {
                try await cache.setMany([(key: "x", value: 1, tags: ["bad{tag}"])])
            }
            #expect(refused?.code == .invalidTag)
        }
    }
}
