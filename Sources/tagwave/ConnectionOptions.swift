import ArgumentParser
import Logging
import TagwaveConfig
import TagwaveRedis

/// Where Redis is for `tagwave cache` and `tagwave publish`, read like the worker reads it:
/// `--redis-url` (one server), else `--config FILE` (or `TAGWAVE_CONFIG`) and the environment
/// (`REDIS_URL`, `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`…, and `REDIS_CLUSTER` or the
/// configuration's `redis.cluster` for a Redis Cluster's seed nodes).
struct RedisOptions: ParsableArguments {
    @Option(
        help: "The worker's YAML configuration, for its redis settings (default: TAGWAVE_CONFIG).")
    var config: String?
    @Option(
        name: .customLong("redis-url"),
        help: "redis://[user:password@]host:port/db (default: the configuration's, REDIS_URL or 127.0.0.1:6379).")
    var url: String?

    /// The configuration these options name, `--redis-url` over its Redis.
    func settings() throws -> TagwaveConfiguration {
        try OperationsOptions.settings(config: config, redisURL: url)
    }

    /// A client of the one server, or of the cluster, these settings name.
    func client(label: String) throws -> any RedisCommanding {
        OperationsOptions.client(try settings(), logger: Logger(label: label))
    }
}
