import ArgumentParser
import Foundation
import Logging

/// `tagwave`: the operator's tool. Every verb parses its arguments, calls a library, and prints.
@main
struct Tagwave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tagwave",
        abstract: "Event-sourced cache invalidation: run workers, inspect the cache and the ledger.",
        discussion: """
            Exit codes: 0 success · 1 not found (a cache miss, an unknown id), degraded (health) · 2 unhealthy · 64 usage error · \
            65 bad input · 69 Redis or the ledger unavailable · 70 internal error · 78 invalid configuration · 130 replay interrupted (resumable).
            Settings come from --config FILE (or TAGWAVE_CONFIG) and the environment (REDIS_URL, REDIS_HOST, \
            REDIS_PORT, REDIS_PASSWORD, TAGWAVE_LEDGER, CACHE_DEFAULT_TTL, TAGWAVE_LOG_LEVEL).
            """,
        subcommands: [
            WorkerCommand.self, PublishCommand.self, EventsCommand.self, ReplayCommand.self, DLQCommand.self, AuditCommand.self,
            OffsetsCommand.self, StatsCommand.self, HealthCommand.self, CacheCommand.self, ConfigCommand.self, MigrateCommand.self,
        ]
    )

    static func bootstrapLogging(level: Logger.Level? = nil) {
        let environmentLevel = ProcessInfo.processInfo.environment["TAGWAVE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        let chosen = level ?? environmentLevel ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = chosen
            return handler
        }
    }
}
