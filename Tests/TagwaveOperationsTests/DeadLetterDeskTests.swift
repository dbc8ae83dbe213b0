import Foundation
import Logging
import TagwaveCache
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Dead-letter triage")
struct DeadLetterDeskTests {
    func desk(_ h: OperationsHarness) -> DeadLetterDesk {
        DeadLetterDesk(
            ledger: h.ledger, redis: h.redis, cache: h.cache, rules: OperationsHarness.rules, operatorName: "ops@test",
            logger: h.logger)
    }

    /// One good event, then a poison one (its payload is an array), then one whose rule cannot be filled.
    func poisoned(_ h: OperationsHarness) async throws -> (poison: LedgerDeadLetter, unfillable: LedgerDeadLetter) {
        try await h.publish([
            ("session.created", #"{"teacherId":"t1","schoolId":"s1"}"#, "good"),
            ("session.created", #"["teacherId","t7"]"#, "bad-payload"),
            ("session.created", #"{"schoolId":"s1"}"#, "no-teacher"),
        ])
        try await h.runWorker(untilProcessed: 1, deadLetters: 2)
        let letters = try await h.ledger.deadLetters(matching: LedgerDeadLetterFilter())
        let poison = try #require(letters.first { $0.reasonCode == "payload_not_object" })
        let unfillable = try #require(letters.first { $0.reasonCode == "rule_unfillable" })
        return (poison, unfillable)
    }

    @Test func aPoisonEventWithItsPayloadFixedIsProcessedRecordedAndMarkedRetried() async throws {
        try await OperationsHarness.with { h in
            let (poison, _) = try await poisoned(h)
            try await h.cache.set("sessions:teacher:t7", ["old"], tags: ["teacher:t7"], ttl: 300)

            let results = try await desk(h).retry(
                .id(try #require(poison.id)), payload: #"{"teacherId":"t7","schoolId":"s2"}"#)

            let result = try #require(results.first)
            #expect(results.count == 1 && result.outcome == .processed)
            #expect(result.eventID == "bad-payload")
            #expect(result.tags == ["teacher:t7", "school:s2:sessions"])
            #expect(try await h.cache.get("sessions:teacher:t7", as: [String].self) == nil)
            let record = try #require(try await h.ledger.event(id: "bad-payload"))
            #expect(record.event.status == .processed && record.event.worker == "ops@test")
            #expect(record.event.payload == #"{"teacherId":"t7","schoolId":"s2"}"#)
            #expect(record.event.streamID == poison.streamID && record.event.attempts == 2)
            #expect(record.outcomes.first?.invalidatedTags.map(\.tag) == ["teacher:t7", "school:s2:sessions"])
            let poisonID = try #require(poison.id)
            let resolved = try #require(try await h.ledger.deadLetter(id: poisonID))
            #expect(resolved.status == .retried && resolved.resolvedBy == "ops@test" && resolved.resolvedAt != nil)
            // Its audit trail shows the poison version next to the processed one.
            #expect(try await h.ledger.eventDetail(id: "bad-payload")?.deadLetters.map(\.id) == [poison.id])
        }
    }

    @Test func aDeadLetterThatStillFailsStaysOpenAndSaysWhy() async throws {
        try await OperationsHarness.with { h in
            let (poison, unfillable) = try await poisoned(h)
            let results = try await desk(h).retry(.all)
            #expect(results.map(\.outcome) == [.stillFailing, .stillFailing])
            #expect(results.first?.detail.contains("payload_not_object") == true)
            #expect(results.first?.detail.contains("--payload") == true)
            #expect(results.last?.detail.contains("teacherId") == true)
            #expect(try await h.ledger.deadLetter(id: try #require(poison.id))?.status == .open)
            #expect(try await h.ledger.deadLetter(id: try #require(unfillable.id))?.status == .open)
        }
    }

    @Test func republishingAppendsTheFixedEntryForTheWorkerPool() async throws {
        try await OperationsHarness.with { h in
            let (_, unfillable) = try await poisoned(h)
            let length = try await h.redis.xinfoStream("events").length
            let results = try await desk(h).retry(
                .id(try #require(unfillable.id)), mode: .republish, payload: #"{"teacherId":"t9","schoolId":"s1"}"#)
            #expect(results.first?.outcome == .republished)
            #expect(try await h.redis.xinfoStream("events").length == length + 1)
            try await h.runWorker(untilProcessed: 2)
            #expect(try await h.ledger.event(id: "no-teacher")?.event.status == .processed)
            #expect(try await h.ledger.deadLetter(id: try #require(unfillable.id))?.status == .retried)
        }
    }

    @Test func aPayloadReplacesOnlyOneNamedDeadLetterAndResolvedOnesAreNotRetriedAgain() async throws {
        try await OperationsHarness.with { h in
            let (poison, _) = try await poisoned(h)
            do {
                _ = try await desk(h).retry(.all, payload: "{}")
                Issue.record("a payload was applied to several dead letters")
            } catch let error as OperationsError {
                #expect(error.code == .usage)
            }
            #expect(try await desk(h).purge(.matching(reasonCode: "payload_not_object", type: nil)) == 1)
            do {
                _ = try await desk(h).retry(.id(try #require(poison.id)))
                Issue.record("a purged dead letter was retried")
            } catch let error as OperationsError {
                #expect(error.code == .usage && error.message.contains("purged by ops@test"))
            }
            do {
                _ = try await desk(h).show(id: 999)
                Issue.record("an unknown id was found")
            } catch let error as OperationsError {
                #expect(error.code == .notFound)
            }
            let counts = try await h.ledger.deadLetterCounts()
            let letters = try await h.ledger.deadLetters(matching: LedgerDeadLetterFilter(limit: 100))
            #expect(
                counts.open == 1 && counts.purged == 1 && counts.openByReason == ["rule_unfillable": 1],
                "\(counts); \(letters.map { "\($0.eventID) \($0.reasonCode) \($0.status) attempts \($0.attempts) by \($0.worker)" })")
        }
    }
}
