import ArgumentParser
import Foundation
import Logging
import TagwaveCache
import TagwaveConfig
import TagwaveHealth
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveWorker

/// The settings every operator verb shares, read like the worker reads them: `--config FILE` (or
/// `TAGWAVE_CONFIG`), then the environment (`REDIS_URL`, `REDIS_HOST`…, `TAGWAVE_LEDGER`,
/// `TAGWAVE_STREAM`, `TAGWAVE_GROUP`), then these flags.
struct OperationsOptions: ParsableArguments {
    @Option(
        help: "The worker's YAML configuration: its Redis, stream, group, ledger and rules (default: TAGWAVE_CONFIG).")
    var config: String?
    @Option(help: "The ledger file (default: the configuration's ledger.path, TAGWAVE_LEDGER or ./tagwave.sqlite).")
    var ledger: String?
    @Option(
        name: .customLong("redis-url"),
        help: "redis://[user:password@]host:port/db (default: the configuration's, or REDIS_URL).")
    var redisURL: String?

    /// The configuration file and environment, with these flags applied.
    func settings() throws -> TagwaveConfiguration {
        var settings = try Self.settings(config: config, redisURL: redisURL)
        if let ledger { settings.ledgerPath = ledger }
        return settings
    }

    /// The configuration file (`config`, else `TAGWAVE_CONFIG`) and the environment, with `--redis-url`
    /// (which names one server) applied, and the CLI's small Redis pool.
    static func settings(config: String?, redisURL: String?) throws -> TagwaveConfiguration {
        var settings: TagwaveConfiguration
        do {
            settings = try ConfigurationLoader.load(
                path: config, environment: ProcessInfo.processInfo.environment, consumer: "tagwave-cli")
        } catch let error as ConfigurationError {
            throw CommandError(message: error.description, code: ExitCodes.configError)
        }
        if let redisURL {
            let parsed: RedisConfiguration
            do {
                parsed = try RedisConfiguration(url: redisURL)
            } catch {
                throw CommandError(message: "--redis-url \(redisURL): \(error)", code: ExitCode.validationFailure)
            }
            settings.redis.host = parsed.host
            settings.redis.port = parsed.port
            settings.redis.username = parsed.username
            settings.redis.password = parsed.password
            settings.redis.database = parsed.database
            settings.redisCluster = []  // one server, as the flag says
        }
        settings.redis.poolSize = 2
        settings.redis.clientName = "tagwave-cli"
        return settings
    }

    /// Opens the ledger without ever creating one: a mistyped path is an error that says so.
    func openLedger(_ settings: TagwaveConfiguration) async throws -> Ledger {
        try await Ledger.open(
            path: settings.ledgerPath, logger: Logger(label: "tagwave.ledger"),
            options: LedgerOptions(createIfMissing: false))
    }

    /// Runs `body` with the ledger open, and closes it on every path.
    func withLedger<T>(_ settings: TagwaveConfiguration, _ body: (Ledger) async throws -> T) async throws -> T {
        let ledger = try await openLedger(settings)
        do {
            let result = try await body(ledger)
            await ledger.close()
            return result
        } catch {
            await ledger.close()
            throw error
        }
    }

    /// Runs `body` with a Redis client checked by ``connectRedis(_:)``, and shuts it down on every path.
    func withRedis<T>(_ settings: TagwaveConfiguration, _ body: (any RedisCommanding) async throws -> T) async throws -> T {
        let redis = try await connectRedis(settings)
        do {
            let result = try await body(redis)
            await redis.shutdown()
            return result
        } catch {
            await redis.shutdown()
            throw error
        }
    }

    /// A Redis client, checked with a `PING`: a verb that needs Redis fails at once (exit 69) when it is unreachable.
    func connectRedis(_ settings: TagwaveConfiguration) async throws -> any RedisCommanding {
        let redis = Self.client(settings, logger: Logger(label: "tagwave.redis"))
        do {
            try await redis.send(RedisCommand("PING"))
        } catch {
            await redis.shutdown()
            throw CommandError(
                message:
                    "Redis at \(redis.address) is unreachable: \(error); check that it runs and --redis-url, "
                    + "REDIS_URL, REDIS_CLUSTER or the configuration's redis.url / redis.cluster",
                code: ExitCodes.unavailable)
        }
        return redis
    }
}

/// Runs an operator verb: logging kept quiet (TAGWAVE_LOG_LEVEL raises it), and the operations
/// library's errors turned into one line on stderr and the documented exit code.
func runningOperation<T>(_ body: () async throws -> T) async throws -> T {
    Tagwave.bootstrapLogging(level: ProcessInfo.processInfo.environment["TAGWAVE_LOG_LEVEL"] == nil ? .critical : nil)
    return try await reportingErrors {
        do {
            return try await body()
        } catch let error as OperationsError {
            throw CommandError(message: error.message, code: exitCode(for: error))
        } catch let error as HealthThresholdError {
            throw CommandError(message: error.description, code: ExitCode.validationFailure)
        }
    }
}

private func exitCode(for error: OperationsError) -> ExitCode {
    switch error.code {
    case .notFound: ExitCodes.notFound
    case .invalidInput: ExitCodes.dataError
    case .unavailable: ExitCodes.unavailable
    case .usage: ExitCode.validationFailure
    default: ExitCodes.internalError
    }
}

/// Prints a line and flushes at once, so that a follower (`events tail`, replay progress) is seen
/// line by line through a pipe.
func emit(_ line: String) {
    print(line)
    fflush(nil)
}

/// Prints a value as one JSON document (pretty) or one line (`compact`, for JSON Lines).
func printJSON(_ value: some Encodable, compact: Bool = false) throws {
    if compact {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        emit(String(decoding: try encoder.encode(value), as: UTF8.self))
    } else {
        emit(try JSONText.encode(value))
    }
}

/// Short renderings for tables.
enum Cell {
    static func duration(_ duration: Duration?) -> String {
        guard let duration else { return "-" }
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        if milliseconds < 1000 { return String(format: "%.2f ms", milliseconds) }
        if milliseconds < 120_000 { return String(format: "%.1f s", milliseconds / 1000) }
        return String(format: "%.0f min", milliseconds / 60_000)
    }

    static func optional(_ value: (some CustomStringConvertible)?) -> String {
        value.map(\.description) ?? "-"
    }

    static func list(_ values: [String], limit: Int = 4) -> String {
        guard !values.isEmpty else { return "-" }
        return values.count <= limit
            ? values.joined(separator: ", ")
            : values.prefix(limit).joined(separator: ", ") + " +\(values.count - limit)"
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f %%", $0) } ?? "-"
    }

    static func rate(_ value: Double) -> String {
        String(format: "%.1f/s", value)
    }
}

/// True when the file descriptor is a terminal.
func isTerminal(_ descriptor: Int32) -> Bool {
    isatty(descriptor) == 1
}

extension OperationsOptions {
    /// The configuration's Redis: one server, or the cluster its `redis.cluster` names.
    static func client(_ settings: TagwaveConfiguration, logger: Logger) -> any RedisCommanding {
        settings.redisCluster.isEmpty
            ? RedisClient(configuration: settings.redis, logger: logger)
            : RedisClusterClient(seeds: settings.clusterSeeds, logger: logger)
    }
}
