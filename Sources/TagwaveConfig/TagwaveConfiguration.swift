import TagwaveCache
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
/// ```
/// See docs/configuration.md for every key.
public struct TagwaveConfiguration: Sendable {
    /// Where Redis is.
    public var redis: RedisConfiguration
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
        file = nil
    }
}
