/// How a ``TaggedCache`` behaves. Every field has a production default.
public struct CacheConfiguration: Sendable {
    /// What `getOrSet` does when Redis cannot be reached.
    public enum RedisFailurePolicy: Sendable {
        /// Call the factory and return its value uncached (the error is counted). The default.
        case callFactory
        /// Throw the Redis error.
        case fail
    }

    /// Prefix of every key (`tw` → `tw:e:<key>`). No `{`, `}` or spaces.
    public var prefix: String = "tw"
    /// TTLs per key class.
    public var ttlPolicy: CacheTTLPolicy = .seed
    /// How long past its TTL an entry is kept to be served if the factory fails (fail-safe). Zero
    /// disables it. Invalidated entries are never served.
    public var maxStale: Duration = .zero
    /// Payloads at least this large are zlib-compressed (when that makes them smaller).
    public var compressionThreshold: Int = 1024
    /// How long one process may compute a key before others stop waiting for it.
    public var leaseTimeout: Duration = .seconds(10)
    /// How often a process waiting on another's lease looks for the value.
    public var leasePollInterval: Duration = .milliseconds(10)
    /// The least time a tag's version key outlives its invalidation: longer than any factory runs,
    /// so a write that started before the invalidation can never become readable again.
    public var versionRetention: Duration = .seconds(3600)
    /// What `getOrSet` does when Redis is unreachable.
    public var onRedisFailure: RedisFailurePolicy = .callFactory
    /// The in-process memory tier; nil (the default) disables it.
    ///
    /// Its coherence is that of Pub/Sub: an invalidation evicts this process's copies before
    /// `invalidate` returns, and other processes' copies when the message reaches them (a few
    /// milliseconds; see `anInvalidationEvictsTheMemoryTierOfAnotherProcess`); a process whose
    /// subscription breaks clears its tier (``TaggedCache/run()``). Until the message arrives, another
    /// process may still answer an entry written before the invalidation, for at most
    /// ``MemoryTierConfiguration/maxAge``. Without a memory tier, no reader anywhere gets such an entry
    /// once `invalidate` has returned.
    public var memoryTier: MemoryTierConfiguration?
    /// Auto-warming of the keys `getOrSet(…, autoWarm: true)` names; nil (the default) disables it.
    public var autoWarm: AutoWarmConfiguration?
    /// The serializer of values.
    public var serializer: any CacheSerializer = JSONCacheSerializer()

    /// The defaults.
    public init() {}
}

/// Bounds of the in-process memory tier (L1).
public struct MemoryTierConfiguration: Sendable, Hashable {
    /// Entries kept at most.
    public var maxEntries: Int
    /// Payload bytes kept at most.
    public var maxBytes: Int
    /// An entry is served from memory at most this long (then read from Redis again).
    public var maxAge: Duration

    /// Bounds for the memory tier.
    public init(maxEntries: Int = 10_000, maxBytes: Int = 64 << 20, maxAge: Duration = .seconds(60)) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxAge = maxAge
    }
}

/// Auto-warming: after an invalidation of one of its tags, a key cached with
/// `getOrSet(…, autoWarm: true)` is computed again by the process that cached it (the seed's
/// `autoWarm` option), so the next reader hits. It needs ``TaggedCache/run()`` running, which hears
/// every invalidation (the worker's included) on the invalidation channel.
public struct AutoWarmConfiguration: Sendable, Hashable {
    /// How long after the invalidation the key is computed again. Default 100 ms.
    public var delay: Duration
    /// Keys remembered at most; past it, the first registered is forgotten. Default 1,000.
    public var maxKeys: Int

    /// Auto-warming with these bounds.
    public init(delay: Duration = .milliseconds(100), maxKeys: Int = 1_000) {
        self.delay = delay
        self.maxKeys = maxKeys
    }
}

extension Duration {
    /// In seconds, fractional.
    var fractionalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, as Redis's `PX`/`PXAT` arguments take them.
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
