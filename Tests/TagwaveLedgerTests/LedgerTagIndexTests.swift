import Foundation
@testable import TagwaveLedger
import TagwaveSQLite
import Testing

@Suite("Tag index: every invalidation of a tag, found through SQLite's full-text index")
struct LedgerTagIndexTests {
    private static func minute(_ minute: Int64) -> LedgerTimestamp {
        LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000 + minute * 60_000)
    }

    @Test func aTagQueryFindsEveryInvalidationNewestFirstWithinItsWindow() async throws {
        try await withLedger { ledger, _ in
            for minute in Int64(0)..<6 {
                _ = try await ledger.record(
                    LedgerBatch(events: [
                        sampleRecord(
                            id: "e\(minute)", streamID: "1700000000000-\(minute)", at: Self.minute(minute),
                            tags: [LedgerTagInvalidation(tag: "teacher:\(minute % 2)", entriesRemoved: Int(minute)), "all"])
                    ])
                )
            }
            let teacher = try await ledger.eventsTouching(tag: "teacher:1")
            #expect(teacher.map(\.event.eventID) == ["e5", "e3", "e1"])
            #expect(teacher.map(\.entriesRemoved) == [5, 3, 1])
            #expect(teacher.allSatisfy { $0.handler == "session.created#0" && $0.worker == "worker-a" && $0.replayRunID == nil })
            #expect(try await ledger.eventsTouching(tag: "all", since: Self.minute(1), until: Self.minute(4)).map(\.event.eventID) == ["e3", "e2", "e1"])
            #expect(try await ledger.eventsTouching(tag: "all", limit: 2).map(\.event.eventID) == ["e5", "e4"])
            #expect(try await ledger.events(filter: .init(tag: "teacher:0")).map(\.eventID) == ["e4", "e2", "e0"])
            #expect(try await ledger.eventsTouching(tag: "teacher:2").isEmpty)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_invalidations") == 12)
        }
    }

    @Test func eventsOfOneBatchInvalidatingOneTagAtOneInstantStayDistinct() async throws {
        try await withLedger { ledger, _ in
            // A batch's outcomes share one finish time: their answers differ only by event.
            let events = (0..<3).map { sampleRecord(id: "e\($0)", streamID: "1700000000000-\($0)", tags: ["school:7"]) }
            _ = try await ledger.record(LedgerBatch(events: events))
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e2", "e1", "e0"])
        }
    }

    @Test func aTagMatchesOnlyItselfWhateverCharactersItHas() async throws {
        try await withLedger { ledger, _ in
            // Spaces, quotes, FTS5 operators, case, two spellings of é that Swift calls equal, JSON escapes.
            // And two tags longer than FTS5 keeps of a token, alike in their first 20,000 bytes.
            let long = String(repeating: "x", count: 20_000)
            let tags = ["teacher:1", "teacher:10", "Teacher:1", "a b", "a", "x\"y OR z", "NOT", "caf\u{E9}", "cafe\u{301}", "*", "back\\slash", "tab\tand\nnewline\u{1}", long + "1", long + "2"]
            let records = tags.enumerated().map { index, tag in
                sampleRecord(id: "e\(index)", streamID: "1700000000000-\(index)", tags: [LedgerTagInvalidation(tag: tag)])
            }
            _ = try await ledger.record(LedgerBatch(events: records))
            for (index, tag) in tags.enumerated() {
                #expect(try await ledger.eventsTouching(tag: tag).map(\.event.eventID) == ["e\(index)"], "\(tag.prefix(20))")
                #expect(try await ledger.event(id: "e\(index)")?.outcomes.first?.invalidatedTags.map(\.tag) == [tag], "\(tag.prefix(20))")
                if tag.utf8.count < 16_384 {
                    #expect(try await ledger.events(filter: .init(tag: tag)).map(\.eventID) == ["e\(index)"], "\(tag)")
                }
            }
        }
    }

    @Test func aTagRepeatedInOneOutcomeIsRecordedOnce() async throws {
        try await withLedger { ledger, _ in
            _ = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "e0", tags: ["a", "b", "a"])]))
            #expect(try await ledger.eventsTouching(tag: "a").map(\.event.eventID) == ["e0"])
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_invalidations") == 2)
            #expect(try await ledger.event(id: "e0")?.outcomes.first?.invalidatedTags == ["a", "b"])
        }
    }

    @Test func closureAndReplayOutcomesAreFoundWithTheirHandler() async throws {
        try await withLedger { ledger, _ in
            var live = sampleRecord(id: "e0", tags: ["teacher:1"])
            live.outcomes.insert(
                LedgerHandlerOutcome(
                    handler: "notify", kind: .closure, status: .succeeded, worker: "worker-a",
                    startedAt: Self.minute(0), finishedAt: Self.minute(0), invalidatedTags: ["teacher:1", "user:9"]),
                at: 0)
            _ = try await ledger.record(LedgerBatch(events: [live]))
            try execute(ledger.path, "INSERT INTO replay_runs (id, started_at_ms, filter, dry_run) VALUES (7, 0, '{}', 0)")
            var replay = sampleRecord(id: "e0", at: Self.minute(30), tags: ["teacher:1"])
            replay.outcomes[0].replayRunID = 7
            replay.outcomes[0].worker = "replayer"
            _ = try await ledger.record(LedgerBatch(events: [replay]))

            let touches = try await ledger.eventsTouching(tag: "teacher:1")
            #expect(touches.map(\.handler) == ["session.created#0", "session.created#0", "notify"])
            #expect(touches.map(\.worker) == ["replayer", "worker-a", "worker-a"])
            #expect(touches.map(\.replayRunID) == [7, nil, nil])
            #expect(try await ledger.eventsTouching(tag: "user:9").map(\.handler) == ["notify"])
        }
    }

    @Test func retentionTakesTheTagIndexWithTheEvents() async throws {
        try await withLedger { ledger, _ in
            var old = sampleRecord(id: "old", streamID: "1700000000000-0", at: Self.minute(0), tags: ["teacher:1", "school:7"])
            old.outcomes.insert(
                LedgerHandlerOutcome(
                    handler: "notify", kind: .closure, status: .succeeded, worker: "worker-a",
                    startedAt: Self.minute(0), finishedAt: Self.minute(0), invalidatedTags: ["teacher:1", "user:9", "teacher:1"]),
                at: 0)
            let recent = sampleRecord(id: "recent", streamID: "1700000000000-1", at: Self.minute(60), tags: ["teacher:1"])
            _ = try await ledger.record(LedgerBatch(events: [old, recent]))

            let result = try await ledger.applyRetention(olderThan: Self.minute(30))
            #expect(result.events == 1)
            #expect(result.tagRows == 2)  // the event's own invalidation and the closure's
            #expect(try await ledger.eventsTouching(tag: "teacher:1").map(\.event.eventID) == ["recent"])
            #expect(try await ledger.eventsTouching(tag: "user:9").isEmpty)
            #expect(try await ledger.eventsTouching(tag: "school:7").isEmpty)
            // What retention deleted is gone from the index itself, not merely hidden by the join.
            for tag in ["user:9", "school:7"] {
                #expect(try rowCount(ledger.path, "SELECT count(*) FROM outcome_tags WHERE outcome_tags MATCH '\(LedgerTagSearch.query(tag))'") == 0)
                #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query(tag))'") == 0)
            }
            try execute(ledger.path, "INSERT INTO block_tags (block_tags) VALUES ('integrity-check')")
            try execute(ledger.path, "INSERT INTO outcome_tags (outcome_tags) VALUES ('integrity-check')")
        }
    }

    @Test func aBatchIsOneBlockAndATagFindsOnlyTheEventsOfItThatNamedIt() async throws {
        try await withLedger { ledger, _ in
            let batch = (0..<5).map { index in
                sampleRecord(
                    id: "e\(index)", streamID: "1700000000000-\(index)", at: Self.minute(Int64(index)),
                    tags: index == 4 ? [] : ["teacher:\(index % 2)", "school:7"])
            }
            _ = try await ledger.record(LedgerBatch(events: batch))
            _ = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "e5", streamID: "1700000000000-5", at: Self.minute(5), tags: ["teacher:1"])]))
            #expect(try rows(ledger.path, "SELECT first_seq || '-' || last_seq FROM event_blocks ORDER BY first_seq", column: 0) == ["1-5", "6-6"])
            #expect(try rows(ledger.path, "SELECT first_occurred_at_ms || '-' || last_occurred_at_ms FROM event_blocks WHERE first_seq = 1", column: 0)
                == ["\(Self.minute(0).millisecondsSinceEpoch)-\(Self.minute(4).millisecondsSinceEpoch)"])
            #expect(try rows(ledger.path, "SELECT first_processed_at_ms || '-' || last_processed_at_ms FROM event_blocks WHERE first_seq = 1", column: 0)
                == ["\(Self.minute(0).millisecondsSinceEpoch + 5)-\(Self.minute(4).millisecondsSinceEpoch + 5)"])
            // A time range reads the blocks processed within it.
            #expect(try await ledger.eventsTouching(tag: "teacher:1", since: Self.minute(2), until: Self.minute(5)).map(\.event.eventID) == ["e3"])
            #expect(try await ledger.eventsTouching(tag: "teacher:1", since: Self.minute(5)).map(\.event.eventID) == ["e5"])
            // One document per block, each tag once in it.
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query("school:7"))'") == 1)
            #expect(try await ledger.eventsTouching(tag: "teacher:1").map(\.event.eventID) == ["e5", "e3", "e1"])
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e3", "e2", "e1", "e0"])
            #expect(try await ledger.events(filter: .init(tag: "teacher:0")).map(\.eventID) == ["e2", "e0"])
            #expect(try await ledger.events(matching: .init(tag: "teacher:1"), order: .recording).map(\.event.eventID) == ["e1", "e3", "e5"])
        }
    }

    @Test func aBlockOfManyTagsNamesEachOnceAndRetentionTakesThemAll() async throws {
        try await withLedger { ledger, _ in
            // 300 events, 500 distinct tags, each named by several events (teacher:i by 3, shared by all).
            let events = (0..<300).map { index in
                sampleRecord(
                    id: "e\(index)", streamID: "1700000000000-\(index)", at: Self.minute(0),
                    tags: ["teacher:\(index % 100)", "session:\(index)", "shared", "cafe\u{301}", "caf\u{E9}"])
            }
            _ = try await ledger.record(LedgerBatch(events: events))
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query("shared"))'") == 1)
            #expect(try await ledger.eventsTouching(tag: "teacher:7").map(\.event.eventID).sorted() == ["e107", "e207", "e7"])
            #expect(try await ledger.eventsTouching(tag: "session:299").map(\.event.eventID) == ["e299"])
            #expect(try await ledger.eventsTouching(tag: "caf\u{E9}").count == 300)
            try execute(ledger.path, "INSERT INTO block_tags (block_tags) VALUES ('integrity-check')")
            _ = try await ledger.applyRetention(olderThan: Self.minute(100_000_000))
            for tag in ["shared", "teacher:7", "session:299", "cafe\u{301}"] {
                #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query(tag))'") == 0)
            }
            try execute(ledger.path, "INSERT INTO block_tags (block_tags) VALUES ('integrity-check')")
        }
    }

    @Test func retentionThatTakesPartOfABlockKeepsTheRestFindable() async throws {
        try await withLedger { ledger, _ in
            // One block whose events were received at different times (two workers' clocks, or a
            // batch straddling the cutoff): retention takes the old ones and leaves the others.
            var batch = (0..<4).map { index in
                sampleRecord(id: "e\(index)", streamID: "1700000000000-\(index)", at: Self.minute(0), tags: ["teacher:\(index)", "school:7"])
            }
            batch[1].event.receivedAt = Self.minute(60)
            batch[3].event.receivedAt = Self.minute(60)
            _ = try await ledger.record(LedgerBatch(events: batch))

            let result = try await ledger.applyRetention(olderThan: Self.minute(30))
            #expect(result.events == 2)
            #expect(result.tagRows == 2)
            #expect(try rows(ledger.path, "SELECT first_seq || '-' || last_seq FROM event_blocks", column: 0) == ["2-4"])
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e3", "e1"])
            #expect(try await ledger.eventsTouching(tag: "teacher:1").map(\.event.eventID) == ["e1"])
            #expect(try await ledger.eventsTouching(tag: "teacher:0").isEmpty)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query("teacher:2"))'") == 0)
            try execute(ledger.path, "INSERT INTO block_tags (block_tags) VALUES ('integrity-check')")

            // The next batch is a block of its own, after what remains.
            _ = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "e4", streamID: "1700000000000-4", tags: ["school:7"])]))
            #expect(try rows(ledger.path, "SELECT first_seq || '-' || last_seq FROM event_blocks ORDER BY first_seq", column: 0) == ["2-4", "5-5"])
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e4", "e3", "e1"])

            // Everything old: no block, no document remains.
            _ = try await ledger.applyRetention(olderThan: Self.minute(100_000_000))
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM event_blocks") == 0)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM block_tags WHERE block_tags MATCH '\(LedgerTagSearch.query("school:7"))'") == 0)
            try execute(ledger.path, "INSERT INTO block_tags (block_tags) VALUES ('integrity-check')")
        }
    }

    @Test func aLedgerOfSchemaThreeKeepsItsTagHistoryThroughTheUpgrade() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ledger.sqlite").path
            // A ledger as schema 3 left it: tags in the JSON columns and in tag_log.
            do {
                let database = try SQLiteDatabase(path: path)
                defer { database.close() }
                try database.execute("PRAGMA journal_mode = WAL")
                let migrator = LedgerMigrator(
                    database: database, path: path, logger: quietLogger, migrations: Array(EmbeddedMigration.all.prefix(3)))
                _ = try migrator.prepare(applyPending: true)
                try database.execute(
                    """
                    INSERT INTO events (seq, event_id, stream, stream_id, stream_ms, stream_seq, type, occurred_at_ms,
                        received_at_ms, payload, status, worker, processed_at_ms, invalidation_handler, invalidation_tags)
                    VALUES (1, 'e1', 'events', '1-0', 1, 0, 'session.created', 10, 10, '{}', 'processed', 'w', 20, 'rules',
                        '[{"tag":"teacher:1","removed":3},{"tag":"school:7"}]');
                    INSERT INTO handler_outcomes (id, event_seq, handler, kind, status, worker, started_at_ms, finished_at_ms, tags)
                    VALUES (5, 1, 'notify', 'closure', 'succeeded', 'w', 15, 16, '[{"tag":"teacher:1"}]');
                    INSERT INTO tag_log (tag, invalidated_at_ms, outcome_id, event_seq, entries_removed)
                    VALUES ('teacher:1', 20, -1, 1, 3), ('school:7', 20, -1, 1, NULL), ('teacher:1', 16, 5, 1, NULL);
                    """)
            }
            let ledger = try await Ledger.open(path: path, logger: quietLogger)
            let touches = try await ledger.eventsTouching(tag: "teacher:1")
            #expect(touches.map(\.handler) == ["rules", "notify"])
            #expect(touches.map(\.entriesRemoved) == [3, nil])
            #expect(try await ledger.eventsTouching(tag: "school:7").map(\.event.eventID) == ["e1"])
            #expect(try rows(path, "SELECT first_seq || '-' || last_seq FROM event_blocks", column: 0) == ["1-1"])
            await ledger.close()
            #expect(try rowCount(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('tag_log', 'tag_runs', 'tag_index')") == 0)
        }
    }

    @Test func aTagQueryStartsFromTheIndexAndReadsOnlyTheRowsItFinds() async throws {
        try await withLedger { ledger, _ in
            let plan = try queryPlan(
                ledger.path, "SELECT * FROM (\(LedgerTagSearch.invalidationsOfTag)) t JOIN events e ON e.seq = t.seq")
            #expect(plan.contains("SCAN block_tags VIRTUAL TABLE INDEX"), "\(plan)")
            #expect(plan.contains("SCAN outcome_tags VIRTUAL TABLE INDEX"), "\(plan)")
            // A block found, its events are one range of rowids.
            #expect(plan.contains("SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"), "\(plan)")
            // Rows are read by rowid; no table is scanned.
            let scans = plan.split(separator: "\n").filter { $0.hasPrefix("SCAN ") && !$0.contains("VIRTUAL TABLE") && !$0.contains("subquery") }
            #expect(scans.isEmpty, "\(plan)")
        }
    }
}

/// SQLite's query plan for `sql` on the file at `path`, one step per line.
func queryPlan(_ path: String, _ sql: String) throws -> String {
    try rows(path, "EXPLAIN QUERY PLAN " + sql, column: 3).joined(separator: "\n")
}
