import Foundation
import Logging
import TagwaveRedis

extension TaggedCache {
    /// Fills a missing entry with one computation across all processes.
    ///
    /// Each round trip tries to take the key's lease (`SET P:l:<key> token NX PX lease`) and re-reads
    /// the entry. The lease holder computes and writes; everyone else polls until the entry appears,
    /// or until the lease is gone (its holder died or failed) and one of them takes it over.
    func fill(
        _ key: String, tags: [String], ttl: CacheTTL, after first: Lookup,
        produce: @escaping @Sendable () async throws -> [UInt8]
    ) async throws -> Lookup {
        let token = UUID().uuidString
        let leaseKey = RedisArgument(keys.lease(key))
        let started = ContinuousClock.now
        var lookup = first
        while true {
            let acquired: Bool
            do {
                let replies = try await redis.pipeline(
                    [RedisCommand("SET", leaseKey, RedisArgument(token), "NX", "PX", RedisArgument(configuration.leaseTimeout.wholeMilliseconds))])
                acquired = replies[0] == .status("OK")
                lookup = try await read(key, tags: tags)
            } catch {
                return try await produceUncached(key, tags: tags, ttl: ttl, error: error, produce: produce)
            }
            if case .fresh = lookup.state {
                if acquired { await release(leaseKey, token) }
                return lookup
            }
            if acquired {
                return try await computeHoldingLease(key, tags: tags, ttl: ttl, lookup: lookup, release: (leaseKey, token), produce: produce)
            }
            if ContinuousClock.now - started > configuration.leaseTimeout * 2 {
                throw CacheError(
                    .leaseTimeout,
                    "waited \(configuration.leaseTimeout * 2) for another process computing \(key): its factory is slower than leaseTimeout; raise leaseTimeout")
            }
            try await Task.sleep(for: configuration.leasePollInterval)
        }
    }

    private func computeHoldingLease(
        _ key: String, tags: [String], ttl: CacheTTL, lookup: Lookup, release lease: (RedisArgument, String),
        produce: @Sendable () async throws -> [UInt8]
    ) async throws -> Lookup {
        let payload: [UInt8]
        do {
            payload = try await produce()
        } catch {
            await release(lease.0, lease.1)
            statistics.count(\.errors)
            if case .stale(let entry) = lookup.state {
                statistics.count(\.staleServed)
                logger.warning(
                    "factory failed; serving the stale copy", metadata: ["tagwave.cache.key": "\(key)", "error": "\(error)"])
                return Lookup(state: .fresh(entry), versions: lookup.versions, readAt: lookup.readAt)
            }
            throw error
        }
        do {
            let entry = try await write(key, payload: payload, tags: Array(zip(tags, lookup.versions)), ttl: ttl)
            await release(lease.0, lease.1)
            return Lookup(state: .fresh(entry), versions: lookup.versions, readAt: lookup.readAt)
        } catch {
            statistics.count(\.errors)
            logger.warning("cache write failed; returning the value uncached", metadata: ["tagwave.cache.key": "\(key)", "error": "\(error)"])
            return Lookup(state: .fresh(CacheEntry(freshUntil: 0, compressed: false, tags: [], payload: payload)), versions: lookup.versions)
        }
    }

    /// Redis failed while filling: apply the failure policy to the computed value.
    private func produceUncached(
        _ key: String, tags: [String], ttl: CacheTTL, error: any Error, produce: @Sendable () async throws -> [UInt8]
    ) async throws -> Lookup {
        statistics.count(\.errors)
        guard case .callFactory = configuration.onRedisFailure else {
            throw CacheError(.redis, "cache fill of \(key) failed: \(error)", underlying: error)
        }
        let payload = try await produce()
        return Lookup(state: .fresh(CacheEntry(freshUntil: 0, compressed: false, tags: [], payload: payload)), versions: [])
    }

    private func release(_ lease: RedisArgument, _ token: String) async {
        _ = try? await redis.eval(CacheScripts.releaseLease, keys: [lease], arguments: [RedisArgument(token)])
    }
}
