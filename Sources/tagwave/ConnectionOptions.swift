import ArgumentParser
import Foundation
import Logging
import TagwaveRedis

/// Where Redis is: `--redis-url`, else the environment (REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD).
struct RedisOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"), help: "redis://[user:password@]host:port/db (default: REDIS_URL or 127.0.0.1:6379).")
    var url: String?

    func configuration() throws -> RedisConfiguration {
        var configuration = try RedisConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        if let url { configuration = try RedisConfiguration.fromEnvironment([:], base: RedisConfiguration(url: url)) }
        configuration.poolSize = 2
        return configuration
    }

    func client(label: String) throws -> RedisClient {
        RedisClient(configuration: try configuration(), logger: Logger(label: label))
    }
}
