import ArgumentParser
import Foundation
import Logging
import TagwaveConfig
import TagwaveHealth
import TagwaveLedger
import TagwaveRedis
import TagwaveWorker

/// `tagwave health`: exit 0 healthy, 1 degraded, 2 unhealthy.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check Redis, the stream and the ledger against thresholds; exit 0 healthy, 1 degraded, 2 unhealthy.",
        discussion: """
            Example: tagwave health --threshold lag=1000/20000 --json
            Thresholds (warning/critical): hit-rate 80/60 (% below), error-rate 1/5 (% above), latency 10/50 (ms), \
            memory 80/95 (% of maxmemory), lag 10000/100000, pending 5000/50000, dead-letters 0/1000 (open ones, above). \
            Here the hit rate is Redis's keyspace hits and misses (every client, the workers' own lookups included): it is \
            shown, not judged; a process with a cache of its own (the worker's admin server) judges its cache's hit rate \
            from 100 reads up. An unreachable Redis is unhealthy (exit 2), a missing ledger degraded.
            --json prints the seed's health shape: {"overall", "reasons", "redis": {"connected", "latency", "memoryUsage", \
            "keyCount", …}, "cache": {"hitRate", "errorRate", …}, "stream": {…}, "ledger": {…}}.
            """)
    @OptionGroup var options: OperationsOptions
    @Option(help: "NAME=WARNING/CRITICAL, e.g. lag=1000/20000 (repeat for several).") var threshold: [String] = []
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let report: HealthReport = try await runningOperation {
            let settings = try options.settings()
            // The configuration's health: section, each --threshold over it.
            var thresholds = settings.health
            for setting in threshold {
                let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else {
                    throw CommandError(
                        message: "--threshold \(setting): write NAME=WARNING/CRITICAL, e.g. lag=1000/20000",
                        code: ExitCode.validationFailure)
                }
                try thresholds.set(parts[0], parts[1])
            }
            let logger = Logger(label: "tagwave.health")
            let redis = OperationsOptions.client(settings, logger: logger)
            var ledgerProblem: String?
            var ledger: Ledger?
            do {
                ledger = try await options.openLedger(settings)
            } catch let error as LedgerError {
                ledgerProblem = error.description
            }
            var sample = await HealthProbe(
                redis: redis, ledger: ledger, stream: settings.worker.stream, group: settings.worker.group,
                logger: logger
            ).sample()
            if let ledgerProblem { sample.ledgerError = ledgerProblem }
            await ledger?.close()
            await redis.shutdown()
            return HealthEvaluator(thresholds: thresholds).evaluate(sample)
        }
        if json {
            try printJSON(report)
        } else {
            emit("\(report.overall.rawValue)")
            if !report.reasons.isEmpty {
                emit(
                    Table(
                        ["STATUS", "PART", "REASON"],
                        report.reasons.map { [$0.status.rawValue, $0.component, $0.message] }
                    ).rendered)
            }
            emit(
                Table(
                    ["FIGURE", "VALUE"],
                    [
                        [
                            "redis",
                            report.redis.connected
                                ? "connected to \(report.redis.address ?? "-"), PING \(report.redis.latency.map { String(format: "%.2f ms", $0) } ?? "-")"
                                : "unreachable",
                        ],
                        [
                            "redis memory",
                            report.redis.usedMemory.map {
                                "\($0) bytes"
                                    + (report.redis.memoryUsage.map { String(format: " (%.1f %% of maxmemory)", $0) }
                                        ?? " (no maxmemory)")
                            } ?? "-",
                        ],
                        ["redis keys", Cell.optional(report.redis.keyCount)],
                        [
                            "hit rate",
                            Cell.percent(report.cache.hitRate)
                                + (report.cache.hitRateSource.map { " (\($0.rawValue))" } ?? ""),
                        ],
                        [
                            "error rate",
                            Cell.percent(report.cache.errorRate)
                                + (report.cache.errorRateSource.map { " (\($0.rawValue))" } ?? ""),
                        ],
                        ["stream \(report.stream.name)", report.stream.length.map { "\($0) entries" } ?? "-"],
                        [
                            "group \(report.stream.group)",
                            "lag \(Cell.optional(report.stream.lag)), pending \(Cell.optional(report.stream.pending)), \(Cell.optional(report.stream.consumers)) consumers",
                        ],
                        ["dead letters open", Cell.optional(report.ledger.deadLetters)],
                        [
                            "events/s (last minute)",
                            report.ledger.eventsPerSecond.map { String(format: "%.1f", $0) } ?? "-",
                        ],
                    ]
                ).rendered)
        }
        if report.overall != .healthy { throw ExitCode(report.overall.exitCode) }
    }
}
