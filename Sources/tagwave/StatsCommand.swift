import ArgumentParser
import Foundation
import Logging
import TagwaveConfig
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveWorker

/// `tagwave stats`: throughput, lag, pending, dead letters, hit rate.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Throughput over the last minute and hour, lag, pending, dead letters and the Redis hit rate.",
        discussion: """
            Example: tagwave stats --json
            Throughput counts the events the ledger recorded; the hit rate is Redis's keyspace hits and misses since it \
            started (every client). Exit codes: 0, 69 Redis or the ledger unavailable.
            """)
    @OptionGroup var options: OperationsOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runningOperation {
            let settings = try options.settings()
            let statistics = try await options.withLedger(settings) { ledger in
                try await options.withRedis(settings) { redis in
                    try await StatsReader(
                        redis: redis, ledger: ledger, stream: settings.worker.stream, group: settings.worker.group,
                        logger: Logger(label: "tagwave.stats")
                    ).read()
                }
            }
            if json {
                try printJSON(statistics)
                return
            }
            let throughput = statistics.throughput
            var rows: [[String]] = [
                [
                    "events, last minute",
                    "\(throughput.eventsLastMinute) (\(Cell.rate(throughput.eventsPerSecondLastMinute)))",
                ],
                [
                    "events, last hour",
                    "\(throughput.eventsLastHour) (\(Cell.rate(throughput.eventsPerSecondLastHour)))",
                ],
                ["newest event", throughput.newestEventAt ?? "-"],
                ["dead-lettered, last hour", "\(throughput.deadLetteredLastHour)"],
                [
                    "dead letters open",
                    "\(statistics.deadLetters.open)"
                        + (statistics.deadLetters.openByReason.isEmpty
                            ? ""
                            : " ("
                                + statistics.deadLetters.openByReason.sorted { $0.key < $1.key }.map {
                                    "\($0.key) \($0.value)"
                                }.joined(separator: ", ") + ")"),
                ],
                [
                    "dead letters retried / purged",
                    "\(statistics.deadLetters.retried) / \(statistics.deadLetters.purged)",
                ],
                ["stream \(statistics.stream.name) length", Cell.optional(statistics.stream.length)],
                ["group \(statistics.stream.group) lag", Cell.optional(statistics.stream.lag)],
                ["group \(statistics.stream.group) pending", Cell.optional(statistics.stream.pending)],
                ["group \(statistics.stream.group) consumers", Cell.optional(statistics.stream.consumers)],
                [
                    "redis hit rate",
                    Cell.percent(statistics.cache.hitRate)
                        + " (\(Cell.optional(statistics.cache.hits)) hits, \(Cell.optional(statistics.cache.misses)) misses)",
                ],
                ["redis keys", Cell.optional(statistics.cache.keyCount)],
                ["replays running", "\(statistics.runningReplays)"],
            ]
            if let problem = statistics.stream.problem { rows.append(["stream problem", problem]) }
            emit(Table(["FIGURE", "VALUE"], rows).rendered)
        }
    }
}
