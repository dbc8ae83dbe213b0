import Foundation
import Logging
import TagwaveCache
import TagwaveTestSupport
import Testing

/// The memory tier against an invalidation that lands while a value is being computed or read:
/// docs/cache-protocol.md promises "no stale set", and the memory tier must keep that promise too.
@Suite("Memory tier: fills racing an invalidation")
struct MemoryTierRaceTests {
    /// A value whose factory ran across an invalidation of its tag is written to Redis under the old
    /// version (so Redis never serves it); the memory tier must not serve it either.
    @Test func aValueComputedAcrossAnInvalidationIsNotServedFromTheMemoryTier() async throws {
        try await RedisServer.with { server in
            var configuration = CacheConfiguration()
            configuration.memoryTier = MemoryTierConfiguration(maxEntries: 100, maxBytes: 1 << 20)
            let cache = TaggedCache(redis: server.client(), configuration: configuration, logger: Logger(label: "t"))
            let other = TaggedCache(redis: server.client(), logger: Logger(label: "other"))
            let coherence = Task { await cache.run() }
            defer { coherence.cancel() }
            try await Task.sleep(for: .milliseconds(300))  // subscribed (and the tier's clearing on subscribe is past)

            let old = try await cache.getOrSet("sessions:teacher:5", tags: ["teacher:5"], ttl: 60) {
                // The factory has read the old data; now another instance invalidates the tag, and
                // its broadcast reaches this process before the value is stored.
                try await other.invalidate(tag: "teacher:5")
                try await Task.sleep(for: .milliseconds(300))
                return "read before the invalidation"
            }
            #expect(old == "read before the invalidation")  // the caller's own read may be old

            let entries = cache.memoryTierUsage.entries
            let again = try await cache.get("sessions:teacher:5", as: String.self, tags: ["teacher:5"])
            let fromRedis = try await other.get("sessions:teacher:5", as: String.self, tags: ["teacher:5"])
            #expect(fromRedis == nil, "Redis keeps no stale set")
            #expect(again == nil, "the memory tier served a value computed before its tag's invalidation")
            #expect(entries == 0, "the memory tier kept a value computed before its tag's invalidation")
        }
    }
}
