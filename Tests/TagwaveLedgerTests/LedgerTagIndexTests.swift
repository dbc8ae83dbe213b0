import Foundation
import TagwaveLedger
import Testing

@Suite("Tag index: the log and its compacted runs")
struct LedgerTagIndexTests {
    @Test func tagQueriesAnswerTheSameBeforeAndAfterCompaction() async throws {
        try await withLedger { ledger, _ in
            let time = { (minute: Int64) in LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000 + minute * 60_000)
            }
            for minute in Int64(0)..<6 {
                _ = try await ledger.record(
                    LedgerBatch(events: [
                        sampleRecord(
                            id: "e\(minute)", streamID: "1700000000000-\(minute)", at: time(minute),
                            tags: ["teacher:\(minute % 2)", "all"])
                    ])
                )
                if minute == 2 {
                    #expect(try await ledger.compactTagIndex() == 6)  // e0…e2, two tags each
                }
            }
            let ask = {
                (
                    try await ledger.eventsTouching(tag: "teacher:1").map(\.event.eventID),
                    try await ledger.eventsTouching(tag: "all", since: time(1), until: time(4)).map(\.event.eventID),
                    try await ledger.events(filter: .init(tag: "teacher:0")).map(\.eventID)
                )
            }
            let before = try await ask()
            #expect(before.0 == ["e5", "e3", "e1"])
            #expect(before.1 == ["e3", "e2", "e1"])
            #expect(before.2 == ["e4", "e2", "e0"])

            #expect(try await ledger.compactTagIndex() == 6)
            #expect(try await ledger.compactTagIndex() == 0)
            let after = try await ask()
            #expect(after.0 == before.0 && after.1 == before.1 && after.2 == before.2)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_runs") == 2)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_log") == 0)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_invalidations") == 12)
        }
    }

    @Test func eventsOfOneBatchInvalidatingOneTagAtOneInstantStayDistinctThroughCompaction() async throws {
        try await withLedger { ledger, _ in
            // A batch's outcomes share one finish time: their rows differ only by event.
            let events = (0..<3).map { sampleRecord(id: "e\($0)", streamID: "1700000000000-\($0)", tags: ["school:7"]) }
            _ = try await ledger.record(LedgerBatch(events: events))
            #expect(try await ledger.compactTagIndex() == 3)
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e2", "e1", "e0"])
        }
    }

    @Test func recordingCompactsTheLogPastTheThreshold() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            let ledger = try await Ledger.open(
                path: path, logger: quietLogger, options: .init(tagLogCompactionThreshold: 5))
            for index in 0..<3 {
                _ = try await ledger.record(
                    LedgerBatch(events: [sampleRecord(id: "e\(index)", tags: ["a", "b", "a"])]))
            }
            await ledger.close()
            // Duplicate tags in one outcome count once: 2, 4, then 6 ≥ 5 rows compacted.
            #expect(try rowCount(path, "SELECT count(*) FROM tag_log") == 0)
            #expect(try rowCount(path, "SELECT count(*) FROM tag_index") == 6)
        }
    }

    @Test func tagQueryVisitsRunsByIndexSeeks() async throws {
        try await withLedger { ledger, _ in
            let plan = try queryPlan(
                ledger.path,
                """
                SELECT x.event_seq FROM tag_runs r CROSS JOIN tag_index x
                WHERE r.last_at_ms >= 0 AND r.first_at_ms < 10 AND x.run = r.run AND x.tag = 'a'
                    AND x.invalidated_at_ms >= 0 AND x.invalidated_at_ms < 10
                """
            )
            #expect(plan.contains("SEARCH x USING PRIMARY KEY (run=? AND tag=?"), "\(plan)")
        }
    }
}

/// SQLite's query plan for `sql` on the file at `path`, one step per line.
func queryPlan(_ path: String, _ sql: String) throws -> String {
    try rows(path, "EXPLAIN QUERY PLAN " + sql, column: 3).joined(separator: "\n")
}
