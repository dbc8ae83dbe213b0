import Logging
import TagwaveLedger

/// `ledger-writer PATH COUNT PREFIX`: records COUNT events with ids `PREFIX-0` … in batches of
/// five (many short write transactions, to contend with other writers), each with one outcome
/// invalidating the tag `PREFIX`, and the consumer offset `PREFIX`. Prints `recorded COUNT`.
enum LedgerWriterRole {
    static let usage = "PATH COUNT PREFIX"

    static func run(arguments: [String]) async throws {
        guard arguments.count == 3, let count = Int(arguments[1]), count >= 0 else {
            throw UsageError(usage: usage)
        }
        let (path, prefix) = (arguments[0], arguments[2])
        let ledger = try await Ledger.open(
            path: path,
            logger: Logger(label: "tagwave-test-child", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        var recorded = 0
        for batchStart in stride(from: 0, to: count, by: 5) {
            let now = LedgerTimestamp.now()
            let indexes = batchStart..<min(batchStart + 5, count)
            let records = indexes.map { index in
                LedgerEventRecord(
                    event: LedgerEvent(
                        eventID: "\(prefix)-\(index)",
                        stream: "events",
                        streamID: "\(now.millisecondsSinceEpoch)-\(index)",
                        type: "test.written",
                        occurredAt: now,
                        receivedAt: now,
                        payload: #"{"writer":"\#(prefix)","index":\#(index)}"#,
                        status: .processed,
                        worker: prefix,
                        processedAt: now
                    ),
                    outcomes: [
                        LedgerHandlerOutcome(
                            handler: "test.written#0",
                            kind: .invalidate,
                            status: .succeeded,
                            worker: prefix,
                            startedAt: now,
                            finishedAt: now,
                            invalidatedTags: [LedgerTagInvalidation(tag: prefix)]
                        )
                    ]
                )
            }
            let offset = LedgerOffset(
                stream: "events",
                group: "test",
                consumer: prefix,
                lastDeliveredID: "\(now.millisecondsSinceEpoch)-\(indexes.upperBound)",
                lastAckedID: "\(now.millisecondsSinceEpoch)-\(indexes.upperBound)",
                updatedAt: now
            )
            let commit = try await ledger.record(LedgerBatch(events: records, offsets: [offset]))
            recorded += commit.newEventIDs.count
        }
        await ledger.close()
        print("recorded \(recorded)")
    }
}
