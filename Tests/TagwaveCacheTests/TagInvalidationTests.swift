import Foundation
import Logging
import TagwaveRedis
import TagwaveTestSupport
import Testing

@testable import TagwaveCache

struct Session: Codable, Equatable, Sendable {
    var id: String
    var title: String
}

@Suite("Tag invalidation against a real Redis")
struct TagInvalidationTests {
    @Test func anInvalidatedTagIsNeverReadStaleByAnyClient() async throws {
        try await RedisServer.with { server in
            let writer = TaggedCache(redis: server.client(), logger: Logger(label: "writer"))
            let reader = TaggedCache(redis: server.client(), logger: Logger(label: "reader"))
            try await writer.set("sessions:t1", [Session(id: "s1", title: "Algebra")], tags: ["teacher:t1", "sessions"], ttl: 60)
            try await writer.set("profile:t1", "Ada", tags: ["teacher:t1"], ttl: 60)
            try await writer.set("school:1", "North", tags: ["school:1"], ttl: 60)
            #expect(try await reader.get("sessions:t1", as: [Session].self, tags: ["teacher:t1", "sessions"])?.count == 1)

            let result = try await reader.invalidate(tag: "teacher:t1")
            #expect(result.entries == 2)
            #expect(try await writer.get("sessions:t1", as: [Session].self) == nil)
            #expect(try await reader.get("sessions:t1", as: [Session].self, tags: ["sessions"]) == nil)
            #expect(try await reader.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == nil)
            #expect(try await reader.get("school:1", as: String.self) == "North")

            // Writing again after the invalidation is readable again.
            try await writer.set("profile:t1", "Ada L.", tags: ["teacher:t1"], ttl: 60)
            #expect(try await reader.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == "Ada L.")
        }
    }

    @Test func aValueComputedWhileTheTagsVersionExpiredIsNotRevivedByTheNextInvalidation() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "cache"))
            try await cache.invalidate(tag: "teacher:t1")  // the version key is born
            // A writer reads the tag's version, and while it computes the version key expires
            // (simulated: deleted): its entry carries a version of the key's previous life.
            let value = try await cache.getOrSet("profile:t1", tags: ["teacher:t1"], ttl: 600) { () async throws -> String in
                _ = try await redis.send(RedisCommand("DEL", "tw:{teacher:t1}:v"))
                return "computed before the next invalidation"
            }
            #expect(value == "computed before the next invalidation")
            #expect(try await cache.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == nil)  // no key: version 0
            // The next invalidation gives the tag a version that no entry of an earlier life can hold.
            let result = try await cache.invalidate(tag: "teacher:t1")
            #expect(result.tags.first.map { $0.version > 1_000_000 } == true, "\(result)")
            #expect(try await cache.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == nil)
            // Writing after it is readable, and bumps count on from there.
            try await cache.set("profile:t1", "fresh", tags: ["teacher:t1"], ttl: 60)
            #expect(try await cache.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == "fresh")
            let next = try await cache.invalidate(tag: "teacher:t1")
            #expect(next.tags.first?.version == result.tags.first.map { $0.version + 1 })
            #expect(try await cache.get("profile:t1", as: String.self, tags: ["teacher:t1"]) == nil)
        }
    }

    @Test func theDocumentedInvalidateScriptIsTheOneTheCacheRuns() throws {
        #expect(try DocumentedScripts.script(after: "INVALIDATE (`CacheScripts.invalidate`)")
                == CacheScripts.invalidate.source.trimmingCharacters(in: .whitespacesAndNewlines),
                "update docs/cache-protocol.md (and Tests/protocol/protocol_peer.py if the protocol changed) with the script")
    }

    @Test func tagsWithEntriesAreFoundAmongManyWithout() async throws {
        // The script checks the member sets of 32 tags at once, and counts per tag only when one exists.
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            try await cache.set("a", 1, tags: ["t33"], ttl: 60)
            try await cache.set("b", 2, tags: ["t69", "t70"], ttl: 60)
            let tags = (0..<71).map { "t\($0)" }
            let result = try await cache.invalidate(tags: tags)
            #expect(result.tags.map(\.entries) == tags.map { ["t33", "t69", "t70"].contains($0) ? 1 : 0 })
            #expect(try await cache.get("a", as: Int.self, tags: ["t33"]) == nil)
            #expect(try await cache.get("b", as: Int.self, tags: ["t69", "t70"]) == nil)
        }
    }

    @Test func invalidatingSeveralTagsIsOneRoundTripWhateverTheirSize() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            for index in 0..<500 { try await cache.set("k\(index)", index, tags: ["big", "tag\(index % 3)"], ttl: 60) }
            try await cache.invalidate(tag: "warm-up")  // the server learns the script (NOSCRIPT → EVAL) once
            let before = redis.roundTrips
            let result = try await cache.invalidate(tags: ["big", "tag0", "tag1", "big"])
            #expect(redis.roundTrips - before == 1)
            #expect(result.tags.map(\.tag) == ["big", "tag0", "tag1"])
            #expect(result.tags.map(\.entries) == [500, 167, 167])
            #expect(result.positions == [0, 1, 2, 0])  // each tag given → its answer; a repeat shares one
        }
    }

    @Test func aFactoryThatReadOldDataCannotRepopulateAfterAnInvalidation() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let factoryStarted = Signal()
            let releaseFactory = Signal()
            let slow = Task {
                try await cache.getOrSet("sessions:t1", tags: ["teacher:t1"], ttl: 60) {
                    await factoryStarted.fire()  // read "old" data now…
                    await releaseFactory.wait()  // …and finish only after the invalidation
                    return "old"
                }
            }
            await factoryStarted.wait()
            try await cache.invalidate(tag: "teacher:t1")
            await releaseFactory.fire()
            #expect(try await slow.value == "old")  // the caller gets what it computed…
            let next = try await cache.get("sessions:t1", as: String.self, tags: ["teacher:t1"])
            #expect(next == nil)  // …but nobody reads it from the cache
            let fresh = try await cache.getOrSet("sessions:t1", tags: ["teacher:t1"], ttl: 60) { "new" }
            #expect(fresh == "new")
        }
    }

    @Test func aHundredThousandEntryTagIsInvalidatedAndReclaimedWithoutBlockingRedis() async throws {
        try await RedisServer.with(arguments: ["--slowlog-log-slower-than", "5000"]) { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            try await writeEntries(cache, redis, count: 100_000, tag: "teacher:big", ttlSeconds: 600)
            try await redis.send(RedisCommand("SLOWLOG", "RESET"))

            let pings = Task { try await worstPing(server) }
            let started = ContinuousClock.now
            let result = try await cache.invalidate(tag: "teacher:big")
            let invalidation = ContinuousClock.now - started
            #expect(result.entries == 100_000)
            #expect(try await cache.get("e0", as: Int.self) == nil)
            let removed = try await cache.reclaim()
            let worst = try await pings.value
            #expect(removed == 100_000)
            #expect(try await redis.send(RedisCommand("DBSIZE")).int == 1)  // the tag's version key
            // Latency is a benchmark's business (Benchmarks/, docs/benchmarks.md); here it is only reported,
            // since a loaded CI machine deschedules redis-server itself.
            let slowest = (try await redis.send(RedisCommand("SLOWLOG", "GET", 128)).array ?? []).compactMap { $0.array?[2].int }.max() ?? 0
            print("100,000-entry tag: invalidate \(invalidation); reclaimed; slowest Redis call over 5 ms: \(slowest) µs (0 = none); worst concurrent PING \(worst)")
        }
    }

    @Test func tagBookkeepingDoesNotOutliveTheEntries() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let cache = TaggedCache(redis: redis, logger: Logger(label: "t"))
            try await writeEntries(cache, redis, count: 100_000, tag: nil, ttlSeconds: 1)
            let peak = try await usedMemory(redis)
            try await Task.sleep(for: .milliseconds(1500))
            // SCAN expires what it touches; then count what is left and what it weighs.
            var cursor = "0"
            var left = 0
            repeat {
                let reply = try await redis.send(RedisCommand("SCAN", RedisArgument(cursor), "COUNT", 10_000)).array ?? []
                cursor = reply.first?.string ?? "0"
                left += reply.last?.array?.count ?? 0
            } while cursor != "0"
            let keys = try await redis.send(RedisCommand("DBSIZE")).int ?? -1
            let after = try await usedMemory(redis)
            print("tag bookkeeping after expiry: \(keys) keys, used_memory \(peak) → \(after) bytes")
            #expect(left == 0 && keys == 0)
        }
    }

    @Test func tagsThatCannotBeStoredAreRefusedWithTheRule() async throws {
        try await RedisServer.with { server in
            let cache = TaggedCache(redis: server.client(), logger: Logger(label: "t"))
            let error = await #expect(throws: CacheError.self) { try await cache.set("k", 1, tags: ["a{b}"]) }
            #expect(error?.code == .invalidTag)
        }
    }
}

/// Writes `count` entries through the protocol's own write path, 1,000 per pipeline.
func writeEntries(_ cache: TaggedCache, _ redis: RedisClient, count: Int, tag: String?, ttlSeconds: Int) async throws {
    for start in stride(from: 0, to: count, by: 1000) {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in start..<min(start + 1000, count) {
                let tags = [tag ?? "t\(index % 1000)"]
                group.addTask { try await cache.write("e\(index)", payload: Array("\(index)".utf8), tags: tags.map { ($0, "0") }, ttl: .duration(.seconds(ttlSeconds))) }
                if index % 64 == 63 { try await group.waitForAll() }
            }
            try await group.waitForAll()
        }
    }
}

func usedMemory(_ redis: RedisClient) async throws -> Int {
    let info = try await redis.send(RedisCommand("INFO", "memory")).string ?? ""
    let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") } ?? ""
    return Int(line.split(separator: ":").last ?? "") ?? -1
}

/// PINGs on a connection of its own for a second; returns the slowest round trip.
func worstPing(_ server: RedisServer) async throws -> Duration {
    let client = server.client()
    var worst = Duration.zero
    let end = ContinuousClock.now + .seconds(1)
    while ContinuousClock.now < end {
        let started = ContinuousClock.now
        try await client.send(RedisCommand("PING"))
        worst = max(worst, ContinuousClock.now - started)
    }
    await client.shutdown()
    return worst
}

/// A one-shot signal between tasks.
actor Signal {
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func fire() {
        fired = true
        waiters.forEach { $0.resume() }
        waiters.removeAll()
    }

    func wait() async {
        if fired { return }
        await withCheckedContinuation { waiters.append($0) }
    }
}
