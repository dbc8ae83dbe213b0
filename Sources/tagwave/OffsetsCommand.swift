import ArgumentParser
import Foundation
import Logging
import TagwaveConfig
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveWorker

/// `tagwave offsets`: where each group and consumer stands.
struct OffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Per group and consumer: last delivered, last acknowledged, pending and lag (Redis and the ledger).",
        discussion: """
            Example: tagwave offsets --config /etc/tagwave/worker.yaml
            A consumer marked `gone` was removed from the group (idle); its last positions stay in the ledger.
            Exit codes: 0, 1 no such stream, 69 Redis or the ledger unavailable.
            """)
    @OptionGroup var options: OperationsOptions
    @Option(help: "The stream (default: the configuration's stream.name, events).") var stream: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await runningOperation {
            let settings = try options.settings()
            let report = try await options.withLedger(settings) { ledger in
                try await options.withRedis(settings) { redis in
                    try await OffsetsReader(redis: redis, ledger: ledger).read(stream: stream ?? settings.worker.stream)
                }
            }
            if json {
                try printJSON(report)
                return
            }
            emit("stream \(report.stream): \(report.length) entries, last id \(report.lastGeneratedID ?? "-")")
            guard !report.groups.isEmpty else {
                emit("no consumer group: no worker has started on this stream")
                return
            }
            var rows: [[String]] = []
            for group in report.groups {
                rows.append([
                    group.name, "(group)", group.lastDeliveredID ?? "-", "-", "\(group.pending)",
                    Cell.optional(group.lag), "-",
                ])
                for consumer in group.consumers {
                    rows.append([
                        group.name, consumer.name + (consumer.inGroup ? "" : " (gone)"),
                        consumer.lastDeliveredID ?? "-", consumer.lastAckedID ?? "-",
                        Cell.optional(consumer.pending), "-",
                        consumer.idleMilliseconds.map { Cell.duration(.milliseconds($0)) } ?? "-",
                    ])
                }
            }
            emit(Table(["GROUP", "CONSUMER", "LAST DELIVERED", "LAST ACKED", "PENDING", "LAG", "IDLE"], rows).rendered)
        }
    }
}
