import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

@Suite("Replaying recorded events through the current rules")
struct ReplayTests {
    func replayer(
        _ h: OperationsHarness, rules: [InvalidationRule] = OperationsHarness.rules, batchSize: Int = 10,
        dryRun: Bool = false
    )
        -> Replayer
    {
        Replayer(
            ledger: h.ledger, cache: dryRun ? nil : h.cache, rules: rules, batchSize: batchSize,
            operatorName: "ops@test", logger: h.logger)
    }

    @Test func aDryRunPrintsWhatEachEventWouldDoAndLeavesRedisExactlyAsItWas() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(30)
            try await h.runWorker(untilProcessed: 30)
            try await h.cache.set("sessions:teacher:t1", ["s1"], tags: ["teacher:t1"], ttl: 300)
            try await h.cache.set("school:s0", ["t0"], tags: ["school:s0:sessions"], ttl: 300)
            let before = try await h.snapshot()

            let summary = try await replayer(h, dryRun: true).run(try ReplayRequest(everything: true, dryRun: true))

            #expect(try await h.snapshot() == before)
            #expect(try await h.cache.get("sessions:teacher:t1", as: [String].self) == ["s1"])
            #expect(summary.run.dryRun && summary.run.status == "completed")
            #expect(summary.eventsReplayed == 30 && summary.plan.count == 30)
            #expect(summary.tagsInvalidated == 13)  // t0…t9 and s0…s2
            let first = try #require(summary.plan.first)
            #expect(first.eventID == "e0")
            #expect(first.invalidate == ["teacher:t0", "school:s0:sessions"])
            #expect(first.warm == ["http://127.0.0.1:9/sessions?teacher=t0"])
            // A dry run records no outcome.
            #expect(try await h.ledger.replayOutcomeCounts(run: summary.run.id).outcomes == 0)
        }
    }

    @Test func aReplayAppliesTheCurrentRulesAndRecordsOutcomesUnderItsRun() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(20)
            try await h.runWorker(untilProcessed: 20)
            try await h.cache.set("sessions:teacher:t3", ["s1"], tags: ["teacher:t3"], ttl: 300)
            try await h.cache.set("sessions:school:s1", ["x"], tags: ["sessions-of:s1"], ttl: 300)
            // The rule was fixed after the outage: it now also names the school's session list.
            let fixed = [
                InvalidationRule(
                    eventType: "session.created",
                    invalidate: [try TagTemplate("teacher:{teacherId}"), try TagTemplate("sessions-of:{schoolId}")])
            ]
            let versionBefore = try await h.version(of: "teacher:t3")

            let summary = try await replayer(h, rules: fixed, batchSize: 200).run(
                try ReplayRequest(types: ["session.created"]))

            #expect(summary.run.status == "completed" && !summary.interrupted)
            #expect(summary.eventsReplayed == 20 && summary.run.eventsDone == 20 && summary.run.eventsTotal == 20)
            #expect(try await h.cache.get("sessions:teacher:t3", as: [String].self) == nil)
            #expect(try await h.cache.get("sessions:school:s1", as: [String].self) == nil)
            #expect(try await h.version(of: "teacher:t3") == versionBefore + 1)  // one batch-wide invalidation per batch
            #expect(summary.entriesRemoved == 2)
            #expect(summary.warmSkipped == 0)
            let record = try #require(try await h.ledger.event(id: "e3"))
            let replayed = try #require(record.outcomes.first { $0.replayRunID == summary.run.id })
            #expect(replayed.kind == .invalidate && replayed.worker == "ops@test")
            #expect(Set(replayed.invalidatedTags.map(\.tag)) == ["teacher:t3", "sessions-of:s0"])
            let touches = try await h.ledger.eventsTouching(tag: "sessions-of:s1")
            #expect(touches.count == 7 && touches.allSatisfy { $0.replayRunID == summary.run.id })
        }
    }

    @Test func anInterruptedReplayResumesAfterItsLastFinishedEventWithoutRedoingAny() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(95)
            try await h.runWorker(untilProcessed: 95)
            let control = ReplayControl()
            let batches = Mutex(0)
            let first = try await replayer(h, batchSize: 10).run(
                try ReplayRequest(everything: true, only: .invalidate), control: control
            ) { _ in
                if batches.withLock({
                    $0 += 1
                    return $0
                }) == 3 {
                    control.stop()
                }
            }
            #expect(first.interrupted)
            #expect(first.run.status == "interrupted" && first.run.eventsDone == 30)
            let stopped = try #require(try await h.ledger.replayRun(id: first.run.id))
            #expect(stopped.isResumable && stopped.lastEventSeq == 30 && stopped.error?.contains("seq 30") == true)

            let second = try await replayer(h, batchSize: 10).resume(runID: first.run.id)
            #expect(second.resumed && !second.interrupted && second.run.id == first.run.id)
            #expect(second.eventsReplayed == 65 && second.run.eventsDone == 95 && second.run.status == "completed")
            let counts = try await h.ledger.replayOutcomeCounts(run: first.run.id)
            #expect(counts.events == 95 && counts.repeated == 0)

            await #expect(throws: OperationsError.self) { try await replayer(h).resume(runID: first.run.id) }
        }
    }

    @Test func runningTheSameRequestAgainContinuesTheUnfinishedRunInsteadOfStartingOver() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(40)
            try await h.runWorker(untilProcessed: 40)
            let request = try ReplayRequest(since: TimeExpression("1h"), types: ["session.created"])
            let control = ReplayControl()
            let first = try await replayer(h).run(request, control: control) { _ in control.stop() }
            #expect(first.interrupted && first.run.eventsDone == 10)

            let again = try await replayer(h).run(
                try ReplayRequest(since: TimeExpression("1h"), types: ["session.created"]))
            #expect(again.resumed && again.run.id == first.run.id && again.eventsReplayed == 30)
            #expect(try await h.ledger.replayOutcomeCounts(run: first.run.id).repeated == 0)
            // Completed: the same request now starts a new run.
            let third = try await replayer(h).run(request)
            #expect(!third.resumed && third.run.id != first.run.id && third.eventsReplayed == 40)
        }
    }

    @Test func aBatchRecordedJustBeforeTheProcessStoppedIsNotReplayedAgainOnResume() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(25)
            try await h.runWorker(untilProcessed: 25)
            let control = ReplayControl()
            let first = try await replayer(h).run(
                try ReplayRequest(everything: true, only: .invalidate), control: control
            ) { _ in control.stop() }
            // As if the process died after recording the second batch, before noting the position.
            let next = try await h.ledger.events(
                matching: LedgerEventSelection(afterSeq: 10), order: .recording, limit: 10)
            _ = try await h.ledger.record(
                LedgerBatch(
                    events: next.map {
                        LedgerEventRecord(
                            event: $0.event,
                            outcomes: [
                                LedgerHandlerOutcome(
                                    handler: "rules", kind: .invalidate, status: .succeeded, worker: "ops@test",
                                    startedAt: .now(), finishedAt: .now(),
                                    replayRunID: first.run.id)
                            ])
                    }))
            let resumed = try await replayer(h).resume(runID: first.run.id)
            #expect(resumed.eventsReplayed == 5 && resumed.run.eventsDone == 25)
            let counts = try await h.ledger.replayOutcomeCounts(run: first.run.id)
            #expect(counts.events == 25 && counts.repeated == 0)
        }
    }

    @Test func aWarmOnlyReplayWithoutAWarmerRecordsTheTargetsAsSkippedAndInvalidatesNothing() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(3)
            try await h.runWorker(untilProcessed: 3)
            let before = try await h.version(of: "teacher:t1")
            let summary = try await Replayer(
                ledger: h.ledger, cache: nil, rules: OperationsHarness.rules, operatorName: "ops@test", logger: h.logger
            )
            .run(try ReplayRequest(eventID: "e1", only: .warm))
            #expect(summary.eventsReplayed == 1 && summary.warmSkipped == 1 && summary.tagsInvalidated == 0)
            #expect(try await h.version(of: "teacher:t1") == before)
            let outcome = try #require(
                try await h.ledger.event(id: "e1")?.outcomes.first { $0.replayRunID == summary.run.id })
            #expect(outcome.kind == .warm && outcome.status == .skipped)
            #expect(outcome.error?.contains("http://127.0.0.1:9/sessions?teacher=t1") == true)
        }
    }

    @Test func aWarmReplayHandsTheTargetsToTheWarmer() async throws {
        final class Recorder: WarmScheduling {
            let scheduled = Mutex<[String]>([])
            func schedule(targets: [String], eventID: String) async { scheduled.withLock { $0 += targets } }
        }
        try await OperationsHarness.with { h in
            try await h.publishSessions(4)
            try await h.runWorker(untilProcessed: 4)
            let recorder = Recorder()
            let summary = try await Replayer(
                ledger: h.ledger, cache: nil, rules: OperationsHarness.rules, warmer: recorder,
                operatorName: "ops@test", logger: h.logger
            ).run(try ReplayRequest(fromStreamID: "0", only: .warm))
            #expect(summary.warmScheduled == 4)
            #expect(recorder.scheduled.withLock { $0 }.count == 4)
        }
    }

    @Test func aReplayMustSayWhatToReplayAndAnInvalidationNeedsRedis() async throws {
        #expect(throws: OperationsError.self) { try ReplayRequest() }
        try await OperationsHarness.with { h in
            let replayer = Replayer(ledger: h.ledger, cache: nil, rules: [], operatorName: "ops@test", logger: h.logger)
            do {
                _ = try await replayer.run(try ReplayRequest(everything: true))
                Issue.record("an invalidating replay ran without a cache")
            } catch let error as OperationsError {
                #expect(error.code == .unavailable)
            }
        }
    }

    @Test func streamIDRangesSelectInclusivelyAndTheCanonicalRequestIgnoresTypeOrder() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(10)
            try await h.runWorker(untilProcessed: 10)
            let events = try await h.ledger.events(matching: LedgerEventSelection(), order: .recording, limit: 10)
            let request = try ReplayRequest(
                fromStreamID: events[2].event.streamID, toStreamID: events[5].event.streamID, dryRun: true)
            let summary = try await replayer(h, dryRun: true).run(request)
            #expect(summary.plan.map(\.eventID) == ["e2", "e3", "e4", "e5"])
            #expect(
                try ReplayRequest(types: ["b", "a"]).canonical == (try ReplayRequest(types: ["a", "b", "a"])).canonical)
        }
    }
}
