import ArgumentParser
import Foundation
import Logging
import TagwaveCache
import TagwaveConfig
import TagwaveRedis

/// `tagwave cache get|set|invalidate|stats|demand`: for operators debugging a live cache.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Read, write and invalidate tagged cache entries (the protocol of docs/cache-protocol.md).",
        subcommands: [Get.self, Set.self, Invalidate.self, Stats.self, Demand.self]
    )

    struct CacheOptions: ParsableArguments {
        @OptionGroup var redis: RedisOptions
        @Option(help: "Key prefix of the cache (default: the configuration's cache.prefix, else tw).") var prefix: String?

        /// The Redis and the cache (prefix, TTL classes, environment) the configuration names,
        /// `--redis-url` and `--prefix` over it.
        func connect() throws -> (redis: any RedisCommanding, cache: CacheConfiguration) {
            let settings = try redis.settings()
            var configuration = settings.cache
            if let prefix { configuration.prefix = prefix }
            return (OperationsOptions.client(settings, logger: Logger(label: "tagwave.cache")), configuration)
        }

        func cache() throws -> TaggedCache {
            let (redis, configuration) = try connect()
            return TaggedCache(redis: redis, configuration: configuration, logger: Logger(label: "tagwave.cache"))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the value under KEY (exit 1 when there is none, or it was invalidated or expired).",
            discussion: "Example: tagwave cache get sessions:teacher:123")
        @OptionGroup var options: CacheOptions
        @Argument(help: "The cache key.") var key: String

        func run() async throws {
            try await reportingErrors {
                guard let bytes = try await options.cache().getBytes(key) else {
                    printError("miss: no fresh entry under \(key)")
                    throw ExitCodes.notFound
                }
                print(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store VALUE (JSON text, stored as given) under KEY with tags and a TTL.",
            discussion: #"Example: tagwave cache set sessions:teacher:123 '[{"id":"s1"}]' --tag teacher:123 --tag sessions --ttl 300"#)
        @OptionGroup var options: CacheOptions
        @Argument(help: "The cache key.") var key: String
        @Argument(help: "The value: JSON text.") var value: String
        @Option(name: .customLong("tag"), help: "A tag (repeat for several).") var tags: [String] = []
        @Option(help: "Seconds, or a key class of the TTL policy such as session-list.") var ttl: String = "default"

        func run() async throws {
            try await reportingErrors {
                guard (try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])) != nil else {
                    throw CommandError(message: "VALUE is not JSON: quote strings, e.g. '\"text\"'", code: ExitCodes.dataError)
                }
                let cacheTTL: CacheTTL = Int(ttl).map { .duration(.seconds($0)) } ?? (ttl == "default" ? .default : .keyClass(ttl))
                try await options.cache().setBytes(key, Array(value.utf8), tags: tags, ttl: cacheTTL)
                print("stored \(key)" + (tags.isEmpty ? "" : " with tags \(tags.joined(separator: ", "))"))
            }
        }
    }

    struct Invalidate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invalidate tags: every entry under them is unreadable from now on, everywhere.",
            discussion: "Example: tagwave cache invalidate teacher:123 school:9:sessions")
        @OptionGroup var options: CacheOptions
        @Argument(help: "Tags to invalidate.") var tags: [String]
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let result = try await options.cache().invalidate(tags: tags)
                if json {
                    print(try JSONText.encode(result))
                } else {
                    print(Table(["TAG", "VERSION", "ENTRIES"], result.tags.map { [$0.tag, "\($0.version)", "\($0.entries)"] }).rendered)
                }
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count entries and tags of the cache in Redis, and show Redis memory and hit figures.",
            discussion: "Example: tagwave cache stats --json")
        @OptionGroup var options: CacheOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors {
                let inspection = try await options.cache().inspect()
                if json {
                    print(try JSONText.encode(inspection))
                    return
                }
                let reads = inspection.keyspaceHits + inspection.keyspaceMisses
                let hitRate = reads == 0 ? "-" : String(format: "%.1f %%", Double(inspection.keyspaceHits) * 100 / Double(reads))
                let bound = inspection.truncated ? "≥ " : ""
                print(Table(["FIGURE", "VALUE"], [
                    ["entries", "\(bound)\(inspection.entries)"],
                    ["versioned tags", "\(bound)\(inspection.versionedTags)"],
                    ["invalidated sets awaiting reclaim", "\(inspection.pendingReclaim)"],
                    ["redis used memory", "\(inspection.usedMemory) bytes" + (inspection.maxMemory > 0 ? " of \(inspection.maxMemory)" : "")],
                    ["redis keyspace hit rate", hitRate],
                ]).rendered)
            }
        }
    }

    struct Demand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the recorded demand under tags: what predictive warming would warm after their invalidation.",
            discussion: """
                Example: tagwave cache demand teacher:123 --min-per-minute 1
                Targets are those DemandRecorders (the response cache middleware's) counted under each tag, most \
                requested first, with the request rate expected from their recent requests.
                """)
        @OptionGroup var options: CacheOptions
        @Argument(help: "Tags to look up.") var tags: [String]
        @Option(help: "Show only targets expected at least this many times a minute (the worker's warm.predictive.min_per_minute).")
        var minPerMinute = 0.001
        @Option(help: "Targets per tag at most.") var limit = 20
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard minPerMinute > 0 else { throw ValidationError("--min-per-minute must be above 0") }
            guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            try await reportingErrors {
                let (redis, cache) = try options.connect()
                let forecasts = try await DemandForecaster(redis: redis, prefix: cache.prefix)
                    .forecast(tags: tags, minimumPerMinute: minPerMinute, limit: limit)
                if json {
                    let rows = zip(tags, forecasts).map { DemandRow(tag: $0, targets: $1) }
                    print(try JSONText.encode(rows))
                    return
                }
                let rows = zip(tags, forecasts).flatMap { tag, targets in
                    targets.isEmpty
                        ? [[tag, "-", "-"]] : targets.map { [tag, $0.target, String(format: "%.3g", $0.perMinute)] }
                }
                print(Table(["TAG", "TARGET", "EXPECTED PER MINUTE"], rows).rendered)
            }
        }

        struct DemandRow: Encodable {
            var tag: String
            var targets: [PredictedTarget]
        }
    }
}
