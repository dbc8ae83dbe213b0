import Foundation
import TagwaveLedger
import Testing

@Suite("Ledger retention")
struct LedgerRetentionTests {
    func deadLetter(_ id: String, _ streamID: String, at time: LedgerTimestamp) -> LedgerDeadLetter {
        LedgerDeadLetter(
            eventID: id, stream: "events", streamID: streamID, fields: [.init(name: "payload", value: "{}")],
            reasonCode: "missing_type", reason: "field `type` is missing", attempts: 1, deadLetteredAt: time, worker: "w")
    }

    @Test func historyOlderThanTheRetentionGoesAndOpenDeadLettersStay() async throws {
        try await withLedger { ledger, _ in
            let old = LedgerTimestamp.now().advanced(by: .seconds(-40 * 86_400))
            let recent = LedgerTimestamp.now().advanced(by: .seconds(-3600))
            var batch = LedgerBatch()
            for index in 0..<25 {
                batch.events.append(sampleRecord(id: "old-\(index)", streamID: "1700000000000-\(index)", at: old))
            }
            batch.events.append(sampleRecord(id: "recent", streamID: "1800000000000-0", at: recent))
            batch.deadLetters = [deadLetter("poison-open", "1700000000001-0", at: old), deadLetter("poison-fixed", "1700000000002-0", at: old)]
            _ = try await ledger.record(batch)
            let fixed = try #require(try await ledger.deadLetters(status: .open).first { $0.eventID == "poison-fixed" }?.id)
            try await ledger.resolveDeadLetters(ids: [fixed], as: .retried, by: "ops", at: old)

            let result = try await ledger.applyRetention(olderThan: LedgerTimestamp.now().advanced(by: .seconds(-30 * 86_400)), batchSize: 10)
            #expect(result.events == 25)
            #expect(result.tagRows == 25)  // one tagged invalidation per event
            #expect(result.deadLetters == 1)
            let left = try await ledger.events(filter: LedgerEventFilter(limit: 100))
            #expect(left.map(\.eventID) == ["recent"])
            #expect(try await ledger.event(id: "old-0") == nil)
            #expect(try await ledger.eventsTouching(tag: "teacher:123").count == 1)
            #expect(try await ledger.deadLetters(status: .open).map(\.eventID) == ["poison-open"])
            // A second pass finds nothing more to delete.
            #expect(try await ledger.applyRetention(olderThan: LedgerTimestamp.now().advanced(by: .seconds(-30 * 86_400))).total == 0)
        }
    }
}
