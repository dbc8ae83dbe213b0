import Foundation
import TagwaveCache
import TagwaveRedis

/// `memory-tier-listener PORT KEY TAG [--timeout-ms MS]`: a cache with a memory tier that keeps it
/// coherent (`run()`), fills KEY under TAG, prints `READY`, then watches its memory tier and prints
/// `EVICTED <ms since READY> at=<epoch ms>` when the entry is gone, and exits 0. Exits 1 when nothing
/// evicts it within `--timeout-ms` (default 30,000).
///
/// It prints `READY` only once subscribed to the invalidation channel (`PUBSUB NUMSUB` counts it)
/// and with the entry still in memory after the subscription's own clearing of the tier, so an
/// eviction after `READY` can only come from an invalidation.
enum MemoryTierListenerRole {
    static let usage = "PORT KEY TAG [--timeout-ms MS]"

    static func run(arguments: [String]) async throws {
        let (positional, options) = try RoleSupport.parse(arguments, options: ["timeout-ms"], usage: usage)
        guard positional.count == 3, let port = Int(positional[0]) else { throw UsageError(usage: usage) }
        let (key, tag) = (positional[1], positional[2])
        guard let timeout = Int(options["timeout-ms"] ?? "30000"), timeout > 0 else { throw UsageError(usage: usage) }

        let logger = RoleSupport.logger("memory-tier-listener")
        let redis = RoleSupport.redis(port: port, logger: logger)
        var configuration = CacheConfiguration()
        configuration.memoryTier = MemoryTierConfiguration(maxEntries: 100, maxBytes: 1 << 20, maxAge: .seconds(120))
        configuration.onRedisFailure = .fail
        let cache = TaggedCache(redis: redis, configuration: configuration, logger: logger)
        let coherence = Task { await cache.run() }
        defer { coherence.cancel() }

        try await waitUntilSubscribed(redis, channel: "\(configuration.prefix):inval")
        try await fill(cache, key: key, tag: tag)
        RoleSupport.say("READY")

        let ready = ContinuousClock.now
        let deadline = ready + .milliseconds(timeout)
        while cache.memoryTierUsage.entries > 0 {
            guard ContinuousClock.now < deadline else {
                throw RoleFailure(
                    "\(key) stayed in the memory tier for \(timeout) ms after READY: no invalidation reached it")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        let evictedAt = RoleSupport.epochMilliseconds()
        RoleSupport.say("EVICTED \(RoleSupport.milliseconds(ContinuousClock.now - ready)) at=\(evictedAt)")
    }

    /// Waits until Redis counts a subscriber on `channel` (this process's: the test runs no other).
    private static func waitUntilSubscribed(_ redis: RedisClient, channel: String) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let reply = try await redis.send(RedisCommand("PUBSUB", "NUMSUB", RedisArgument(channel)))
            if let count = reply.array?.last?.int, count > 0 { return }
            guard ContinuousClock.now < deadline else { throw RoleFailure("not subscribed to \(channel) within 10 s") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Fills the key and makes sure it stays in memory: `run()` clears the tier when its subscription
    /// is confirmed, which may land just after Redis counted the subscriber.
    private static func fill(_ cache: TaggedCache, key: String, tag: String) async throws {
        for _ in 0..<20 {
            _ = try await cache.getOrSet(key, tags: [tag], ttl: 60) { "filled by the listener" }
            try await Task.sleep(for: .milliseconds(50))
            if cache.memoryTierUsage.entries == 1 { return }
        }
        throw RoleFailure("\(key) does not stay in the memory tier")
    }
}
