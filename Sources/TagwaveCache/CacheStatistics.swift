import Synchronization

/// Counters of one cache instance, read by the health monitor and `tagwave cache stats`.
public final class CacheStatistics: Sendable {
    /// A consistent-enough copy of the counters.
    public struct Snapshot: Sendable, Hashable, Codable {
        /// Reads answered from the cache (either tier).
        public var hits: Int
        /// Reads that found nothing fresh.
        public var misses: Int
        /// Entries written.
        public var sets: Int
        /// Tags invalidated.
        public var invalidations: Int
        /// Redis failures, factory failures and corrupt entries.
        public var errors: Int
        /// Stale copies served because the factory failed.
        public var staleServed: Int
        /// Hits answered by the memory tier.
        public var memoryHits: Int
        /// Reads that went to Redis (memory-tier hits do not), and their time in all, for
        /// ``averageReadMilliseconds``.
        public var redisReads: Int = 0
        /// The time of those reads together, in seconds.
        public var redisReadSeconds: Double = 0

        /// The mean time of a read that went to Redis, in milliseconds (the seed's
        /// `avgResponseTime`); nil before the first.
        public var averageReadMilliseconds: Double? {
            redisReads == 0 ? nil : redisReadSeconds * 1000 / Double(redisReads)
        }

        /// Hits as a percentage of reads (100 when there were no reads).
        public var hitRate: Double {
            let reads = hits + misses
            return reads == 0 ? 100 : Double(hits) * 100 / Double(reads)
        }

        /// Errors as a percentage of operations (reads, writes and invalidations).
        public var errorRate: Double {
            let operations = hits + misses + sets + invalidations
            return operations == 0 ? 0 : Double(errors) * 100 / Double(operations)
        }
    }

    private let counters = Mutex(Snapshot(hits: 0, misses: 0, sets: 0, invalidations: 0, errors: 0, staleServed: 0, memoryHits: 0))

    init() {}

    /// The counters now.
    public var snapshot: Snapshot { counters.withLock { $0 } }

    func count(_ counter: WritableKeyPath<Snapshot, Int>, by amount: Int = 1) {
        counters.withLock { $0[keyPath: counter] += amount }
    }

    func countRedisRead(taking duration: Duration) {
        counters.withLock {
            $0.redisReads += 1
            $0.redisReadSeconds += duration.fractionalSeconds
        }
    }
}
