import Foundation
import TagwaveLedger
import Testing

@Suite("Recording and reading the ledger")
struct LedgerRecordTests {
    @Test func recordedEventReadsBackWithItsOutcomesAndTags() async throws {
        try await withLedger { ledger, _ in
            let record = sampleRecord(
                id: "evt-1", tags: [LedgerTagInvalidation(tag: "school:7:sessions", entriesRemoved: 2), "teacher:123"])
            let commit = try await ledger.record(LedgerBatch(events: [record]))
            #expect(commit.newEventIDs == ["evt-1"])
            #expect(commit.alreadyRecordedEventIDs.isEmpty)
            #expect(try await ledger.event(id: "evt-1") == record)
            #expect(try await ledger.event(id: "evt-unknown") == nil)
        }
    }

    @Test func sameEventIDIsRecordedOnceHoweverOftenDelivered() async throws {
        try await withLedger { ledger, _ in
            let first = sampleRecord(id: "evt-1")
            var redelivered = sampleRecord(id: "evt-1", tags: ["teacher:999"])
            redelivered.event.attempts = 2

            let commit1 = try await ledger.record(LedgerBatch(events: [first, first]))
            let commit2 = try await ledger.record(LedgerBatch(events: [redelivered]))

            #expect(commit1.newEventIDs == ["evt-1"])
            #expect(commit1.alreadyRecordedEventIDs == ["evt-1"])
            #expect(commit2.newEventIDs.isEmpty)
            #expect(commit2.alreadyRecordedEventIDs == ["evt-1"])
            #expect(try await ledger.event(id: "evt-1") == first)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM events") == 1)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM events WHERE invalidation_handler IS NOT NULL") == 1)
            #expect(try await ledger.eventsTouching(tag: "teacher:999").isEmpty)
        }
    }

    @Test func aLiveInvalidationIsKeptOnTheEventRowAndEveryOtherOutcomeInItsOwnRow() async throws {
        try await withLedger { ledger, _ in
            // The worker's usual record: one successful invalidation, nothing else.
            let usual = sampleRecord(id: "usual", streamID: "1700000000000-1")
            // A closure ran before the invalidation, and the invalidation took a retry the event does not show.
            var mixed = sampleRecord(id: "mixed", streamID: "1700000000000-2", tags: ["teacher:7"])
            mixed.outcomes.insert(
                LedgerHandlerOutcome(
                    handler: "notify", kind: .closure, status: .succeeded, duration: .microseconds(80), worker: "worker-a",
                    startedAt: mixed.event.occurredAt, finishedAt: mixed.event.occurredAt),
                at: 0)
            var differs = sampleRecord(id: "differs", streamID: "1700000000000-3")
            differs.outcomes[0].attempts = 2

            _ = try await ledger.record(LedgerBatch(events: [usual, mixed, differs]))

            #expect(try await ledger.event(id: "usual") == usual)
            #expect(try await ledger.event(id: "mixed") == mixed)
            #expect(try await ledger.event(id: "differs") == differs)
            // One handler_outcomes row each for the closure and for the invalidation that differs from its event.
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM handler_outcomes") == 2)
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM events WHERE invalidation_handler IS NOT NULL") == 2)
            let touches = try await ledger.eventsTouching(tag: "teacher:123")
            #expect(Set(touches.map(\.event.eventID)) == ["usual", "differs"])
            #expect(touches.allSatisfy { $0.handler == "session.created#0" && $0.worker == "worker-a" })
            #expect(try rowCount(ledger.path, "SELECT count(*) FROM tag_invalidations_by_handler WHERE handler = 'session.created#0'") == 5)
        }
    }

    @Test func replayOutcomesAreAddedToTheRecordedEvent() async throws {
        try await withLedger { ledger, _ in
            let live = sampleRecord(id: "evt-1")
            var replay = sampleRecord(id: "evt-1")
            try execute(
                ledger.path, "INSERT INTO replay_runs (id, started_at_ms, filter, dry_run) VALUES (7, 0, '{}', 0)")
            replay.outcomes[0].replayRunID = 7
            replay.outcomes[0].worker = "replayer"

            _ = try await ledger.record(LedgerBatch(events: [live]))
            let commit = try await ledger.record(LedgerBatch(events: [replay]))

            #expect(commit.alreadyRecordedEventIDs == ["evt-1"])
            let stored = try #require(try await ledger.event(id: "evt-1"))
            #expect(stored.event == live.event)
            #expect(stored.outcomes == live.outcomes + replay.outcomes)
        }
    }

    @Test func isRecordedTellsWhichIDsTheLedgerHas() async throws {
        try await withLedger { ledger, _ in
            _ = try await ledger.record(LedgerBatch(events: [sampleRecord(id: "a"), sampleRecord(id: "b")]))
            #expect(try await ledger.isRecorded(eventIDs: ["a", "b", "c"]) == ["a", "b"])
            #expect(try await ledger.isRecorded(eventIDs: [String]()) == [])
        }
    }

    @Test func eventsTouchingATagAnswerWhichEventsInvalidatedIt() async throws {
        try await withLedger { ledger, _ in
            let day: Int64 = 86_400_000
            let base: Int64 = 1_700_000_000_000
            let old = sampleRecord(id: "old", at: LedgerTimestamp(millisecondsSinceEpoch: base - 10 * day))
            let recent = sampleRecord(id: "recent", at: LedgerTimestamp(millisecondsSinceEpoch: base - 2 * day))
            let other = sampleRecord(
                id: "other", at: LedgerTimestamp(millisecondsSinceEpoch: base - day), tags: ["teacher:5"])
            _ = try await ledger.record(LedgerBatch(events: [old, recent, other]))

            let lastWeek = try await ledger.eventsTouching(
                tag: "teacher:123",
                since: LedgerTimestamp(millisecondsSinceEpoch: base - 7 * day),
                until: LedgerTimestamp(millisecondsSinceEpoch: base)
            )
            #expect(lastWeek.map(\.event.eventID) == ["recent"])
            #expect(lastWeek.first?.handler == "session.created#0")
            #expect(lastWeek.first?.invalidatedAt == recent.outcomes[0].finishedAt)
            #expect(try await ledger.eventsTouching(tag: "teacher:123").map(\.event.eventID) == ["recent", "old"])
        }
    }

    @Test func eventFilterCombinesTypeTimeStatusAndTag() async throws {
        try await withLedger { ledger, _ in
            let time = { (minutes: Int64) in
                LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000 + minutes * 60_000)
            }
            _ = try await ledger.record(
                LedgerBatch(events: [
                    sampleRecord(id: "e1", type: "session.created", at: time(1)),
                    sampleRecord(id: "e2", type: "user.updated", at: time(2), tags: ["user:1"]),
                    sampleRecord(id: "e3", type: "session.created", at: time(3), status: .deadLettered),
                    sampleRecord(id: "e4", type: "session.created", at: time(4), tags: ["teacher:9"]),
                ])
            )
            let ids = { (filter: LedgerEventFilter) in try await ledger.events(filter: filter).map(\.eventID) }
            #expect(try await ids(.init()) == ["e4", "e3", "e2", "e1"])
            #expect(try await ids(.init(type: "session.created")) == ["e4", "e3", "e1"])
            #expect(try await ids(.init(since: time(2), until: time(4))) == ["e3", "e2"])
            #expect(try await ids(.init(status: .deadLettered)) == ["e3"])
            #expect(try await ids(.init(tag: "teacher:123")) == ["e3", "e1"])
            #expect(try await ids(.init(type: "session.created", tag: "teacher:9")) == ["e4"])
            #expect(try await ids(.init(limit: 2)) == ["e4", "e3"])
        }
    }

    @Test func openDeadLetterForAStreamEntryIsRecordedOnce() async throws {
        try await withLedger { ledger, _ in
            let deadLetter = LedgerDeadLetter(
                eventID: "1700000000000-4",
                stream: "events",
                streamID: "1700000000000-4",
                fields: [
                    .init(name: "payload", value: "not json \"quoted\"\n"), .init(name: "payload", value: "twice"),
                ],
                reasonCode: "poison.missing_type",
                reason: "the entry has no `type` field",
                attempts: 1,
                deadLetteredAt: LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_100),
                worker: "worker-a"
            )
            let first = try await ledger.record(LedgerBatch(deadLetters: [deadLetter]))
            let again = try await ledger.record(LedgerBatch(deadLetters: [deadLetter]))

            #expect(first.deadLettersRecorded == 1)
            #expect(again.deadLettersRecorded == 0)
            let open = try await ledger.deadLetters(status: .open)
            #expect(open.count == 1)
            var expected = deadLetter
            expected.id = open.first?.id
            #expect(open.first == expected)
            #expect(try await ledger.deadLetters(status: .purged).isEmpty)
        }
    }

    @Test func offsetsOnlyMoveForward() async throws {
        try await withLedger { ledger, _ in
            let at = LedgerTimestamp(millisecondsSinceEpoch: 1_700_000_000_000)
            let offset = { (delivered: String?, acked: String?) in
                LedgerOffset(
                    stream: "events", group: "g", consumer: "c1", lastDeliveredID: delivered, lastAckedID: acked,
                    updatedAt: at)
            }
            _ = try await ledger.record(LedgerBatch(offsets: [offset("1700000000000-10", "1700000000000-9")]))
            // An older batch committed late, then a newer one: "…-10" > "…-9" although it sorts lower as text.
            _ = try await ledger.record(LedgerBatch(offsets: [offset("1700000000000-2", nil)]))
            _ = try await ledger.record(LedgerBatch(offsets: [offset(nil, "1700000000000-10")]))

            let stored = try await ledger.offsets()
            #expect(stored == [offset("1700000000000-10", "1700000000000-10")])
        }
    }

    @Test func malformedStreamIDRejectsTheWholeBatch() async throws {
        try await withLedger { ledger, _ in
            var bad = sampleRecord(id: "bad")
            bad.event.streamID = "yesterday"
            let error = try await #require(throws: LedgerError.self) {
                try await ledger.record(LedgerBatch(events: [sampleRecord(id: "good"), bad]))
            }
            #expect(error.code == .invalidInput)
            #expect(error.description.contains("\"yesterday\""))
            #expect(try await ledger.isRecorded(eventIDs: ["good", "bad"]).isEmpty)
        }
    }

    @Test func closedLedgerSaysSo() async throws {
        try await withLedger { ledger, _ in
            await ledger.close()
            let error = try await #require(throws: LedgerError.self) {
                try await ledger.offsets()
            }
            #expect(error.code == .closed)
        }
    }
}
