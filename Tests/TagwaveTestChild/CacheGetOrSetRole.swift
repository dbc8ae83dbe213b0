import Foundation
import TagwaveCache
import TagwaveRedis

#if canImport(Glibc)
    import Glibc
#endif

/// `cache-get-or-set PORT KEY FACTORY_MS MARKER_FILE [--lease-ms MS] [--start-at EPOCH_MS]`: one
/// `getOrSet` of KEY (tag `xproc:KEY`, TTL 60 s) on the Redis at PORT, whose factory appends
/// `<pid> <epoch ms>` to MARKER_FILE and prints `FACTORY at=<epoch ms>` when it starts, sleeps
/// FACTORY_MS, and returns `computed by <pid>`.
///
/// `--lease-ms` sets ``CacheConfiguration/leaseTimeout``; `--start-at` waits (connected) until that
/// moment, so several processes can call at once. Redis failures are errors (`onRedisFailure = .fail`):
/// a factory run must never hide one. Prints `VALUE <value>`, `MISSES <n>` (1 when its first read
/// found the key cold) and `ELAPSED <ms>` (the `getOrSet` call alone).
enum CacheGetOrSetRole {
    static let usage = "PORT KEY FACTORY_MS MARKER_FILE [--lease-ms MS] [--start-at EPOCH_MS]"

    static func run(arguments: [String]) async throws {
        let (positional, options) = try RoleSupport.parse(arguments, options: ["lease-ms", "start-at"], usage: usage)
        guard positional.count == 4, let port = Int(positional[0]), let factoryMilliseconds = Int(positional[2]),
            factoryMilliseconds >= 0
        else { throw UsageError(usage: usage) }
        let (key, marker) = (positional[1], positional[3])
        var configuration = CacheConfiguration()
        configuration.onRedisFailure = .fail
        if let text = options["lease-ms"] {
            guard let lease = Int(text), lease > 0 else { throw UsageError(usage: usage) }
            configuration.leaseTimeout = .milliseconds(lease)
        }
        let startAt = try options["start-at"].map { text in
            guard let moment = Int64(text) else { throw UsageError(usage: usage) }
            return moment
        }

        let logger = RoleSupport.logger("cache-get-or-set")
        let redis = RoleSupport.redis(port: port, logger: logger)
        let cache = TaggedCache(redis: redis, configuration: configuration, logger: logger)
        try await redis.send(RedisCommand("PING"))  // connected before the start line
        if let startAt {
            let wait = startAt - RoleSupport.epochMilliseconds()
            if wait > 0 { try await Task.sleep(for: .milliseconds(wait)) } else { RoleSupport.say("LATE \(-wait)") }
        }

        let pid = getpid()
        let started = ContinuousClock.now
        let value = try await cache.getOrSet(key, tags: ["xproc:\(key)"], ttl: 60) {
            let now = RoleSupport.epochMilliseconds()
            try RoleSupport.append("\(pid) \(now)", to: marker)
            RoleSupport.say("FACTORY at=\(now)")
            try await Task.sleep(for: .milliseconds(factoryMilliseconds))
            return "computed by \(pid)"
        }
        let elapsed = RoleSupport.milliseconds(ContinuousClock.now - started)
        RoleSupport.say("VALUE \(value)")
        RoleSupport.say("MISSES \(cache.statistics.snapshot.misses)")
        RoleSupport.say("ELAPSED \(elapsed)")
        await redis.shutdown()
    }
}
