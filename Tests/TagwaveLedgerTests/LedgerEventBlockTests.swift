import Foundation
@testable import TagwaveLedger
import TagwaveTestSupport
import Testing

@Suite("Event blocks: when events occurred, indexed per recorded batch")
struct LedgerEventBlockTests {
    private static let start: Int64 = 1_700_000_000_000

    /// Batches whose time spans overlap the way a real ledger's do: mostly in order, now and then an
    /// event that occurred long before or after the others, several events in one millisecond, two types.
    private static func history() -> [[LedgerEventRecord]] {
        var generator = SeededGenerator(state: 7)
        var batches: [[LedgerEventRecord]] = []
        var number = 0
        for batch in 0..<12 {
            var records: [LedgerEventRecord] = []
            for _ in 0..<Int(generator.next() % 9 + 1) {
                var offset = Int64(batch) * 1_000 + Int64(generator.next() % 1_500)
                switch generator.next() % 10 {
                case 0: offset -= 6_000  // late: occurred six batches ago (spooled, or a slow producer)
                case 1: offset += 6_000  // from a producer whose clock is ahead
                default: break
                }
                if generator.next() % 4 == 0 { offset = Int64(batch) * 1_000 }  // one shared millisecond
                let type = generator.next() % 3 == 0 ? "user.updated" : "session.created"
                records.append(
                    sampleRecord(
                        id: "e\(number)", type: type, streamID: "1700000000000-\(number)",
                        at: LedgerTimestamp(millisecondsSinceEpoch: start + offset)))
                number += 1
            }
            batches.append(records)
        }
        return batches
    }

    /// What SQLite's `ORDER BY occurred_at_ms DESC, type DESC, seq DESC` gives, computed here.
    private static func expectedNewestFirst(_ all: [LedgerEvent], where include: (LedgerEvent) -> Bool = { _ in true }) -> [String] {
        all.enumerated().filter { include($0.element) }.sorted { one, other in
            if one.element.occurredAt != other.element.occurredAt { return one.element.occurredAt > other.element.occurredAt }
            if one.element.type != other.element.type { return one.element.type > other.element.type }
            return one.offset > other.offset
        }.map(\.element.eventID)
    }

    @Test func newestFirstIsExactWhateverTheBlocksTimeSpans() async throws {
        try await withLedger { ledger, _ in
            let batches = Self.history()
            for batch in batches { _ = try await ledger.record(LedgerBatch(events: batch)) }
            let all = batches.flatMap { $0.map(\.event) }
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM event_blocks") == batches.count)

            for limit in [1, 3, 10, 25, all.count, LedgerSelectionSQL.largeLimit] {
                let found = try await ledger.events(filter: LedgerEventFilter(limit: limit)).map(\.eventID)
                #expect(found == Array(Self.expectedNewestFirst(all).prefix(limit)), "limit \(limit)")
            }
            let since = LedgerTimestamp(millisecondsSinceEpoch: Self.start + 2_500)
            let until = LedgerTimestamp(millisecondsSinceEpoch: Self.start + 7_200)
            let window = try await ledger.events(filter: LedgerEventFilter(type: "user.updated", since: since, until: until, limit: 4))
            #expect(
                window.map(\.eventID)
                    == Array(Self.expectedNewestFirst(all) { $0.type == "user.updated" && $0.occurredAt >= since && $0.occurredAt < until }.prefix(4)))
            let count = try await ledger.countEvents(matching: LedgerEventSelection(since: since, until: until))
            #expect(count == all.filter { $0.occurredAt >= since && $0.occurredAt < until }.count)
        }
    }

    @Test func aTimeRangeInRecordingOrderPagesWithoutMissingALateEvent() async throws {
        try await withLedger { ledger, _ in
            let batches = Self.history()
            for batch in batches { _ = try await ledger.record(LedgerBatch(events: batch)) }
            let all = batches.flatMap { $0.map(\.event) }
            let since = LedgerTimestamp(millisecondsSinceEpoch: Self.start)
            let until = LedgerTimestamp(millisecondsSinceEpoch: Self.start + 4_000)
            var seen: [String] = []
            var after: Int64?
            while true {
                let page = try await ledger.events(
                    matching: LedgerEventSelection(since: since, until: until, afterSeq: after), order: .recording, limit: 3)
                guard let last = page.last else { break }
                seen += page.map(\.event.eventID)
                after = last.seq
            }
            #expect(seen == all.filter { $0.occurredAt >= since && $0.occurredAt < until }.map(\.eventID))
        }
    }

    @Test func timeQueriesReadBlocksByTheirSpanAndEventsByRange() async throws {
        try await withLedger { ledger, _ in
            let selection = try LedgerSelectionSQL(
                LedgerEventSelection(since: LedgerTimestamp(millisecondsSinceEpoch: 0)), path: ledger.path)
            let plan = try queryPlan(ledger.path, "SELECT e.seq \(selection.fromWhere) ORDER BY b.first_seq, e.seq")
            #expect(plan.contains("SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(plan)")
            // Recording order comes from the blocks' order: no sort.
            #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
            let newest = try queryPlan(
                ledger.path, "SELECT first_seq FROM event_blocks b ORDER BY last_occurred_at_ms DESC")
            #expect(newest.contains("event_blocks_by_last_occurrence"), "\(newest)")
            #expect(!newest.contains("TEMP B-TREE"), "\(newest)")
        }
    }
}
