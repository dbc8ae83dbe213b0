import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveSQLite
import TagwaveTestSupport
import TagwaveWorker
import Testing

@Suite("The worker against a real Redis and a real ledger")
struct WorkerTests {
    @Test func anEventInvalidatesItsTagsAndIsRecordedWithThem() async throws {
        try await WorkerHarness.with { h in
            try await h.cache.set("sessions:teacher:t1", ["s1"], tags: ["teacher:t1"], ttl: 60)
            try await h.cache.set("school:s9", ["t1"], tags: ["school:s9:sessions"], ttl: 60)
            try await h.cache.set("other", 1, tags: ["teacher:t2"], ttl: 60)
            let worker = h.worker()
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s9","sessionId":"x"}"#, id: "evt-1")
            try await h.eventually { try await h.processedCount() == 1 }
            #expect(try await h.cache.get("sessions:teacher:t1", as: [String].self) == nil)
            #expect(try await h.cache.get("school:s9", as: [String].self) == nil)
            #expect(try await h.cache.get("other", as: Int.self) == 1)
            let record = try #require(try await h.ledger.event(id: "evt-1"))
            #expect(record.event.type == "session.created" && record.event.status == .processed)
            #expect(record.event.entriesRemoved == 2)
            let invalidation = try #require(record.outcomes.first { $0.kind == .invalidate })
            #expect(Set(invalidation.invalidatedTags.map(\.tag)) == ["teacher:t1", "school:s9:sessions"])
            #expect(invalidation.invalidatedTags.allSatisfy { $0.entriesRemoved == 1 })
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }

    @Test func tenThousandEventsFromAPlainClientAreAllProcessedOnce() async throws {
        try await WorkerHarness.with { h in
            // redis-cli is the plain client: no Swift publisher involved.
            var script = ""
            for index in 0..<10_000 {
                script += #"XADD events * type session.created id e\#(index) payload "{\"teacherId\":\"t\#(index % 100)\",\"schoolId\":\"s\#(index % 7)\"}""# + "\n"
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("xadd-\(UUID().uuidString).txt")
            try script.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let cli = try ChildProcess("/bin/sh", ["-c", "\(ChildProcess.which("redis-cli")) -p \(h.server.port) < \(file.path) > /dev/null"])
            #expect(try await cli.wait() == 0)

            let worker = h.worker()
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually(timeout: .seconds(120)) { worker.progress.processed == 10_000 }
            #expect(try await h.processedCount() == 10_000)
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
            #expect(worker.progress.deadLettered == 0)
        }
    }

    @Test func aCommitTheLedgerRefusesIsNeverAcknowledgedNorAreTheBatchesBehindIt() async throws {
        try await WorkerHarness.with { h in
            // Another connection (as `tagwave dlq` or a second worker process would be) makes the
            // ledger refuse, inside SQLite, any transaction that records e25.
            let other = try SQLiteDatabase(path: h.ledgerPath)
            try other.execute("""
                CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.event_id = 'e25'
                BEGIN SELECT RAISE(ABORT, 'the test refuses e25'); END
                """)
            var published: [(entry: StreamID, event: String)] = []
            for index in 0..<60 {
                let id = try await h.publish(type: "session.created", payload: #"{"teacherId":"t\#(index)","schoolId":"s1"}"#, id: "e\(index)")
                published.append((id, "e\(index)"))
            }
            // Batches of ten, two commits in flight: e20…e29 cannot commit, nor whatever was chained behind them.
            let worker = h.worker(batchSize: 10)
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually { try await h.processedCount() >= 20 }
            try await Task.sleep(for: .milliseconds(500))  // the worker retries its pending entries meanwhile
            let pending = Set(try await h.redis.xpending("events", group: "invalidators", count: 100).map(\.id))
            let delivered = try await h.lastDeliveredID()
            #expect(pending.contains(published[25].entry))
            #expect(try await h.ledger.event(id: "e25") == nil)
            for (entry, event) in published where entry <= delivered && !pending.contains(entry) {
                #expect(try await h.ledger.event(id: event) != nil, "\(event) was acknowledged but is not in the ledger")
            }
            // Once the ledger accepts e25 again, everything is recorded once and acknowledged.
            try other.execute("DROP TRIGGER refuse_one")
            other.close()
            try await h.eventually { try await h.processedCount() == 60 }
            try await h.eventually { try await h.pending() == 0 }
        }
    }

    @Test func poisonEventsAreDeadLetteredWithReasonsWhileTheGoodOnesAroundThemAreProcessed() async throws {
        try await WorkerHarness.with { h in
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#, id: "good-1")
            try await h.publish(type: nil, payload: #"{"teacherId":"t1"}"#)
            try await h.publish(type: "session.created", payload: "[1,2]")
            try await h.publish(type: "session.created", payload: #"{"teacherId": "#)
            try await h.publish(type: "session.created", payload: #"{"schoolId":"s1"}"#, id: "no-teacher")
            // A value that would make a tag no cache accepts ({ and newlines are reserved).
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t{9}","schoolId":"s1"}"#, id: "bad-tag")
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t2","schoolId":"s1"}"#, id: "good-2")
            let worker = h.worker()
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually {
                let letters = try await h.ledger.deadLetters().count
                let processed = try await h.processedCount()
                return letters == 5 && processed == 2
            }
            let letters = try await h.ledger.deadLetters()
            #expect(Set(letters.map(\.reasonCode)) == ["missing_type", "payload_not_object", "invalid_json", "rule_unfillable", "tag_invalid"])
            let unfillable = try #require(letters.first { $0.reasonCode == "rule_unfillable" })
            #expect(unfillable.eventID == "no-teacher")
            #expect(unfillable.reason.contains("teacherId"))
            let badTag = try #require(letters.first { $0.reasonCode == "tag_invalid" })
            #expect(badTag.eventID == "bad-tag" && badTag.reason.contains("teacher:t{9}"), "\(badTag.reason)")
            #expect(letters.allSatisfy { !$0.fields.isEmpty && $0.attempts == 1 })
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }

    @Test func aHandlerFailingTwiceThenSucceedingIsProcessedWithItsAttempts() async throws {
        try await WorkerHarness.with { h in
            let calls = Mutex<[String: Int]>([:])
            let worker = h.worker(deliveryLimit: 5)
            worker.on("user.updated", name: "flaky") { event, context in
                let id = event.id ?? ""
                let attempt = calls.withLock { $0[id, default: 0] += 1; return $0[id]! }
                if id == "always" { throw URLError(.timedOut) }
                if attempt <= 2 { throw URLError(.cannotConnectToHost) }
                context.invalidate("user:u1")
            }
            try await h.publish(type: "user.updated", payload: #"{"userId":"u1"}"#, id: "flaky")
            try await h.publish(type: "user.updated", payload: #"{"userId":"u2"}"#, id: "always")
            try await h.publish(type: "user.updated", payload: #"{"userId":"u3"}"#, id: "behind")
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually {
                let letters = try await h.ledger.deadLetters().count
                let processed = try await h.processedCount()
                return letters == 1 && processed == 2
            }
            let flaky = try #require(try await h.ledger.event(id: "flaky"))
            #expect(flaky.event.attempts == 3)
            #expect(flaky.outcomes.contains { $0.handler == "flaky" && $0.status == .succeeded && $0.attempts == 3 })
            let letter = try #require(try await h.ledger.deadLetters().first)
            #expect(letter.eventID == "always" && letter.reasonCode == "delivery_limit" && letter.attempts == 5)
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
            // "behind" failed twice too, on its own schedule: no event waited for another's backoff.
            #expect(try await h.ledger.event(id: "behind")?.event.attempts == 3)
            #expect(calls.withLock { $0["always"] } == 5)
        }
    }

    @Test func twoWorkersInOneGroupShareTheStreamAndRecordEveryEventOnce() async throws {
        try await WorkerHarness.with { h in
            for index in 0..<2_000 {
                try await h.publish(type: "session.created", payload: #"{"teacherId":"t\#(index % 50)","schoolId":"s1"}"#, id: "e\(index)")
            }
            let first = h.worker(consumer: "w1")
            let second = h.worker(consumer: "w2")
            let a = Task { try await first.run() }
            let b = Task { try await second.run() }
            defer { a.cancel(); b.cancel() }
            try await h.eventually(timeout: .seconds(60)) { first.progress.processed + second.progress.processed == 2_000 }
            #expect(try await h.processedCount() == 2_000)
            #expect(first.progress.processed > 0 && second.progress.processed > 0)
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }

    @Test func oneWorkerRunningThreeConsumersRecordsEveryEventOnceUnderStableNames() async throws {
        try await WorkerHarness.with(poolSize: 8) { h in
            for index in 0..<3_000 {
                try await h.publish(type: "session.created", payload: #"{"teacherId":"t\#(index % 50)","schoolId":"s1"}"#, id: "e\(index)")
            }
            let worker = h.worker(consumer: "host-1", concurrency: 3)
            var handledBy = Set<String>()
            let seen = Mutex(Set<String>())
            worker.on("session.created") { _, context in seen.withLock { _ = $0.insert(context.streamID) } }
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually(timeout: .seconds(60)) { worker.progress.processed == 3_000 }
            #expect(try await h.processedCount() == 3_000)
            #expect(seen.withLock { $0.count } == 3_000)  // every handler ran, on one lane or another
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
            for consumer in try await h.redis.xinfoConsumers("events", group: "invalidators") { handledBy.insert(consumer.name) }
            #expect(handledBy == ["host-1", "host-1/2", "host-1/3"])
            // Each consumer's offsets are its own in the ledger, under its own name.
            let offsets = try await h.ledger.offsets().filter { $0.group == "invalidators" }.map(\.consumer)
            #expect(Set(offsets).isSubset(of: handledBy) && !offsets.isEmpty)
        }
    }

    @Test func anEntryDeletedWhilePendingIsRecordedAsLostNotRetried() async throws {
        try await WorkerHarness.with { h in
            try await h.redis.xgroupCreate("events", group: "invalidators", startID: "0")
            let id = try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#)
            _ = try await h.redis.xreadgroup(group: "invalidators", consumer: "dead", stream: "events", count: 10)
            try await h.redis.send(RedisCommand("XDEL", "events", RedisArgument(id.description)))
            try await Task.sleep(for: .milliseconds(150))
            let worker = h.worker(claimIdle: .milliseconds(100))
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually { worker.progress.lost == 1 }
            let lost = try await h.ledger.events(filter: LedgerEventFilter(status: .lost, limit: 10))
            #expect(lost.map(\.streamID) == [id.description])
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }

    @Test func aVanishedGroupIsRecreatedAtTheLedgersLastAcknowledgedEntry() async throws {
        try await WorkerHarness.with { h in
            let worker = h.worker()
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#, id: "before")
            try await h.eventually { try await h.processedCount() == 1 }
            try await h.redis.send(RedisCommand("XGROUP", "DESTROY", "events", "invalidators"))
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t2","schoolId":"s1"}"#, id: "after")
            // The counters move after the commit and the ack: wait for them, not for the ledger row.
            try await h.eventually { worker.progress.processed == 2 }
            #expect(try await h.processedCount() == 2)
            #expect(worker.progress.duplicates == 0)  // "before" was not delivered again (the group did not restart at 0)
        }
    }

    @Test func aRedeliveredEventAlreadyInTheLedgerIsNotRecordedTwice() async throws {
        try await WorkerHarness.with { h in
            let worker = h.worker()
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#, id: "same")
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#, id: "same")
            try await h.eventually { worker.progress.processed + worker.progress.duplicates == 2 }
            #expect(try await h.processedCount() == 1)
            #expect(worker.progress.duplicates == 1)
        }
    }
}

@Suite("Slow handlers and the claim timeout")
struct SlowHandlerTests {
    @Test func aHandlerSlowerThanTheClaimTimeoutIsNotRunAgainByAnotherWorker() async throws {
        try await WorkerHarness.with { h in
            let calls = Mutex(0)
            let handler: EventHandler = { _, _ in
                calls.withLock { $0 += 1 }
                try await Task.sleep(for: .milliseconds(6500))
            }
            // The handler runs 2.2 times the claim timeout; the second worker tries to claim every 1.5 s.
            // The heartbeat beats every 600 ms on a timer and a Redis connection thread of its own: the
            // other suites' tasks, which share Swift's cooperative pool (two threads here) with these
            // workers, once held a beat back past the claim timeout when it was a task.
            let first = h.worker(consumer: "slow", claimIdle: .seconds(3))
            let second = h.worker(consumer: "other", claimIdle: .seconds(3))
            first.on("report.requested", handler)
            second.on("report.requested", handler)
            try await h.publish(type: "report.requested", payload: #"{"reportId":"r1"}"#, id: "r1")
            let a = Task { try await first.run() }
            defer { a.cancel() }
            try await h.eventually { calls.withLock { $0 } == 1 }
            let b = Task { try await second.run() }
            defer { b.cancel() }
            try await h.eventually { try await h.processedCount() == 1 }
            try await Task.sleep(for: .milliseconds(3200))
            #expect(calls.withLock { $0 } == 1)
            #expect(second.progress.processed == 0 && second.progress.duplicates == 0)
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }
}
