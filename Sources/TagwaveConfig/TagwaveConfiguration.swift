import TagwaveCache
import TagwaveHealth
import TagwaveEvents
import TagwaveRedis
import TagwaveWorker

/// Everything a `tagwave worker` daemon runs with: one YAML file plus environment overrides.
///
/// ```yaml
/// redis: { url: "redis://127.0.0.1:6379/0" }
/// stream: { name: "events", group: "invalidators" }
/// ledger: { path: "./tagwave.sqlite", retention_days: 30 }
/// rules:
///   - event: session.created
///     invalidate: ["teacher:{teacherId}", "school:{schoolId}:sessions"]
///     warm: ["http://127.0.0.1:8080/api/v1/sessions?teacher={teacherId}"]
/// warm: { delay_ms: 100, concurrency: 4, rate_per_s: 50, timeout_ms: 5000, retries: 2 }
/// ```
/// See docs/configuration.md for every key.
public struct TagwaveConfiguration: Sendable {
    /// Where Redis is (with a cluster: the settings every node's connections use).
    public var redis: RedisConfiguration
    /// The seed nodes of a Redis Cluster (`redis.cluster`, `REDIS_CLUSTER`) as their URLs give them;
    /// empty for one server. ``clusterSeeds`` adds the `redis` settings.
    public var redisCluster: [RedisConfiguration] = []

    /// The cluster's seeds with the `redis` settings (timeouts, pool, credentials unless a seed's
    /// URL names its own); empty for one server.
    public var clusterSeeds: [RedisConfiguration] {
        redisCluster.map { node in
            var seed = redis
            seed.host = node.host
            seed.port = node.port
            seed.database = 0
            if node.username != nil { seed.username = node.username }
            if node.password != nil { seed.password = node.password }
            return seed
        }
    }
    /// The worker's stream, group, batching, retries and claims.
    public var worker: WorkerConfiguration
    /// The ledger file.
    public var ledgerPath: String
    /// Days of history kept in the ledger.
    public var retentionDays: Int
    /// The tagged cache the rules invalidate (prefix, TTL policy).
    public var cache: CacheConfiguration
    /// The admin HTTP server's address (`127.0.0.1:9477`); nil disables it.
    public var adminBind: String?
    /// Bearer token required by the admin server.
    public var adminToken: String?
    /// The rules, compiled.
    public var rules: [InvalidationRule]
    /// The `warm:` section: how the daemon's warmer delays, coalesces, limits and retries.
    public var warm: WarmSettings
    /// The `health:` section: the levels the admin server's `/health` and `tagwave health` judge by.
    public var health: HealthThresholds
    /// The file it was read from (nil when built from defaults).
    public var file: String?

    /// Defaults: local Redis, stream `events`, group `invalidators`, ledger `./tagwave.sqlite`.
    public init(consumer: String) {
        redis = RedisConfiguration()
        worker = WorkerConfiguration(consumer: consumer)
        ledgerPath = "./tagwave.sqlite"
        retentionDays = 30
        cache = CacheConfiguration()
        adminBind = "127.0.0.1:9477"
        adminToken = nil
        rules = []
        warm = WarmSettings()
        health = HealthThresholds()
        file = nil
    }
}

/// The `warm:` section of the configuration file. A field left nil keeps the warmer's default
/// (`TagwaveWarmer.WarmerConfiguration`, which documents each one).
///
/// ```yaml
/// warm:
///   delay_ms: 100           # a job runs this long after the first event that asked for its target
///   window_ms: 100          # requests for a target coalesce this long, across the pool (default: delay_ms)
///   concurrency: 4          # jobs at once
///   rate_per_s: 50          # requests per second, all targets together; 0: no limit
///   timeout_ms: 5000        # one attempt: connect, request and the whole answer
///   connect_timeout_ms: 1000
///   retries: 2              # after the first attempt (timeouts, connection errors, 5xx, 408, 429)
///   backoff_ms: 200         # before the first retry, doubled per retry
///   record_coalesced: true  # a ledger row per coalesced request; false only counts them
///   predictive:             # also warm what recorded demand predicts after each invalidation
///     base_url: "http://127.0.0.1:8080"   # recorded paths are requested under it
///     min_per_minute: 1     # the least expected request rate worth a warm
///     max_per_tag: 10       # the most requested targets per invalidated tag
/// ```
public struct WarmSettings: Sendable, Hashable {
    /// `delay_ms`.
    public var delay: Duration?
    /// `window_ms`.
    public var window: Duration?
    /// `concurrency`.
    public var concurrency: Int?
    /// `rate_per_s`; 0 means no limit.
    public var ratePerSecond: Double?
    /// `timeout_ms`.
    public var timeout: Duration?
    /// `connect_timeout_ms`.
    public var connectTimeout: Duration?
    /// `retries`.
    public var retries: Int?
    /// `backoff_ms`.
    public var initialBackoff: Duration?
    /// `record_coalesced`.
    public var recordCoalesced: Bool?
    /// `predictive`: nil when the section is absent.
    public var predictive: PredictiveWarmSettings?

    /// Every field unset: the warmer's defaults.
    public init() {}
}

/// The `warm.predictive:` section (`TagwaveWarmer.PredictiveWarming` documents each field).
public struct PredictiveWarmSettings: Sendable, Hashable {
    /// `base_url`: `http://host:port[/prefix]`, required.
    public var baseURL: String
    /// `min_per_minute`.
    public var minimumPerMinute: Double?
    /// `max_per_tag`.
    public var maximumPerTag: Int?

    /// Predictive warming under `baseURL`, thresholds unset.
    public init(baseURL: String) {
        self.baseURL = baseURL
    }
}
