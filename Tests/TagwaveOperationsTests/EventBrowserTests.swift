import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("Browsing, following, exporting and auditing the ledger")
struct EventBrowserTests {
    @Test func timeExpressionsAcceptRFC3339DatesEpochMillisecondsAndDurations() throws {
        let now = LedgerTimestamp(millisecondsSinceEpoch: 1_714_564_800_000)  // 2024-05-01T12:00:00Z
        #expect(try TimeExpression("2h").resolved(now: now).millisecondsSinceEpoch == 1_714_557_600_000)
        #expect(try TimeExpression("1h30m").resolved(now: now).millisecondsSinceEpoch == 1_714_559_400_000)
        #expect(try TimeExpression("500ms").resolved(now: now).millisecondsSinceEpoch == 1_714_564_799_500)
        #expect(try TimeExpression("7d").resolved(now: now).millisecondsSinceEpoch == 1_713_960_000_000)
        #expect(
            try TimeExpression("2024-05-01T10:00:00Z").resolved(now: now).millisecondsSinceEpoch == 1_714_557_600_000)
        #expect(
            try TimeExpression("2024-05-01T12:00:00+02:00").resolved(now: now).millisecondsSinceEpoch
                == 1_714_557_600_000)
        #expect(try TimeExpression("2024-05-01").resolved(now: now).millisecondsSinceEpoch == 1_714_521_600_000)
        #expect(try TimeExpression("1714557600000").resolved(now: now).millisecondsSinceEpoch == 1_714_557_600_000)
        #expect(try TimeExpression("2h").isRelative && !(try TimeExpression("2024-05-01").isRelative))
        for bad in ["yesterday", "2x", "h", "", "2024-13-01"] {
            #expect(throws: OperationsError.self, "\(bad)") { try TimeExpression(bad) }
        }
    }

    @Test func listFiltersByTypeSourceTagStatusAndTimeNewestFirst() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(12)
            try await h.publish([("user.updated", #"{"userId":"u1"}"#, "u1")])
            try await h.runWorker(untilProcessed: 13)
            let browser = EventBrowser(ledger: h.ledger)
            let teacher = try await browser.list(try EventQuery(tag: "teacher:t2"))
            #expect(teacher.map(\.event.eventID) == ["e2"])
            #expect(try await browser.list(try EventQuery(types: ["user.updated"])).map(\.event.eventID) == ["u1"])
            #expect(try await browser.list(try EventQuery(source: "api", limit: 5)).count == 5)
            #expect(try await browser.list(try EventQuery(source: "billing")).isEmpty)
            #expect(
                try await browser.list(try EventQuery(since: TimeExpression("1h"), status: "processed", limit: 100))
                    .count == 13)
            #expect(try await browser.list(try EventQuery(until: TimeExpression("1h"))).isEmpty)
            #expect(throws: OperationsError.self) { try EventQuery(status: "done") }
            let newest = try await browser.list(try EventQuery(types: ["session.created"], limit: 3))
            #expect(newest.count == 3 && newest.allSatisfy { !$0.outcomes.isEmpty })
        }
    }

    @Test func showGivesEveryOutcomeAndAnUnknownIDIsNotFound() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(1)
            try await h.runWorker(untilProcessed: 1)
            let detail = try await EventBrowser(ledger: h.ledger).show(id: "e0")
            #expect(detail.record.event.type == "session.created")
            #expect(detail.record.outcomes.first?.invalidatedTags.map(\.tag) == ["teacher:t0", "school:s0:sessions"])
            #expect(detail.warmJobs.isEmpty && detail.deadLetters.isEmpty)
            do {
                _ = try await EventBrowser(ledger: h.ledger).show(id: "nope")
                Issue.record("an unknown event was shown")
            } catch let error as OperationsError {
                #expect(error.code == .notFound && error.message.contains("tagwave dlq list"))
            }
        }
    }

    @Test func tailYieldsTheBacklogThenEachNewlyRecordedEventInOrder() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(5)
            try await h.runWorker(untilProcessed: 5)
            let tail = EventBrowser(ledger: h.ledger).tail(
                try EventQuery(types: ["session.created"]), backlog: 2, interval: .milliseconds(20))
            let seen = Mutex<[String]>([])
            let following = Task {
                for try await record in tail { seen.withLock { $0.append(record.event.eventID) } }
            }
            defer { following.cancel() }
            try await h.eventually { seen.withLock { $0.count } == 2 }
            try await h.publish([("user.updated", #"{"userId":"u1"}"#, "not-followed")])
            try await h.publishSessions(4, from: 5)
            try await h.runWorker(untilProcessed: 9)
            try await h.eventually { seen.withLock { $0.count } == 6 }
            #expect(seen.withLock { $0 } == ["e3", "e4", "e5", "e6", "e7", "e8"])
        }
    }

    @Test func aCancelledTailEndsQuietly() async throws {
        try await OperationsHarness.with { h in
            let tail = EventBrowser(ledger: h.ledger).tail(try EventQuery(), interval: .milliseconds(20))
            let following = Task {
                var count = 0
                for try await _ in tail { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(100))
            following.cancel()
            #expect(try await following.value == 0)
        }
    }

    @Test func exportWritesCSVWithQuotedFieldsAndJSONLinesWithTheirOutcomes() async throws {
        try await OperationsHarness.with { h in
            try await h.publish([
                ("session.created", #"{"teacherId":"t1","schoolId":"s1","note":"a, \"quoted\" one"}"#, "q1")
            ])
            try await h.publishSessions(3)
            try await h.runWorker(untilProcessed: 4)
            let exporter = EventExporter(ledger: h.ledger, pageSize: 2)
            var csv: [String] = []
            #expect(try await exporter.export(try EventQuery(), format: .csv) { csv.append($0) } == 4)
            #expect(csv.first == EventExporter.csvColumns.joined(separator: ","))
            #expect(csv.count == 5)
            #expect(csv[1].contains(#","{""teacherId"":""t1"",""schoolId"":""s1"",""note"":""a, \""quoted\"" one""}""#))
            #expect(csv[1].contains(",teacher:t1 school:s1:sessions,"))
            var lines: [String] = []
            #expect(
                try await exporter.export(try EventQuery(tag: "teacher:t1", limit: 10), format: .jsonl) {
                    lines.append($0)
                } == 2)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["id"] as? String == "q1")
            #expect((first["payload"] as? [String: Any])?["note"] as? String == #"a, "quoted" one"#)
            #expect(first["tags"] as? [String] == ["teacher:t1", "school:s1:sessions"])
            #expect((first["outcomes"] as? [[String: Any]])?.first?["kind"] as? String == "invalidate")
            var limited: [String] = []
            #expect(try await exporter.export(try EventQuery(limit: 3), format: .jsonl) { limited.append($0) } == 3)
        }
    }

    @Test func auditingAKeyReadsItsEntryHeaderAndNamesTheEventsThatInvalidatedItsTags() async throws {
        try await OperationsHarness.with { h in
            try await h.cache.set("sessions:teacher:t4", ["s"], tags: ["teacher:t4", "sessions"], ttl: 300)
            try await h.publishSessions(5)
            try await h.runWorker(untilProcessed: 5)
            let auditor = Auditor(ledger: h.ledger, redis: h.redis)
            let audit = try await auditor.key("sessions:teacher:t4")
            #expect(audit.redisKey == "tw:e:sessions:teacher:t4")
            #expect(audit.tags.map(\.tag) == ["teacher:t4", "sessions"])
            #expect(audit.tags.map(\.current) == [false, true])
            // Written before the tag's first invalidation (version 0), read after it (a clock-based version).
            #expect(audit.tags.first?.writtenVersion == "0" && (audit.tags.first.flatMap { Int64($0.currentVersion) } ?? 0) > 1_000_000)
            #expect(!audit.readable)
            #expect(audit.touches.map(\.event.eventID) == ["e4"])
            #expect(audit.touches.first?.worker == "w1")
            do {
                _ = try await auditor.key("never-written")
                Issue.record("a missing entry was audited")
            } catch let error as OperationsError {
                #expect(error.code == .notFound)
            }
            #expect(try await auditor.tag("school:s1:sessions").map(\.event.eventID).sorted() == ["e1", "e4"])
        }
    }

    @Test func statisticsCountTheLastMinuteAndHourAndTheQueue() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(7)
            try await h.publish([(nil, "{}", nil)])
            try await h.runWorker(untilProcessed: 7, deadLetters: 1)
            let statistics = try await StatsReader(
                redis: h.redis, ledger: h.ledger, stream: "events", group: "invalidators", logger: h.logger
            ).read()
            #expect(statistics.throughput.eventsLastMinute == 7 && statistics.throughput.eventsLastHour == 7)
            #expect(statistics.throughput.deadLetteredLastHour == 1)
            #expect(statistics.deadLetters.open == 1 && statistics.deadLetters.openByReason == ["missing_type": 1])
            #expect(statistics.stream.length == 8 && statistics.stream.pending == 0 && statistics.stream.lag == 0)
            let later = try await h.ledger.statistics(now: LedgerTimestamp.now().advanced(by: .seconds(120)))
            #expect(later.eventsLastMinute == 0 && later.eventsLastHour == 7)
        }
    }

    @Test func offsetsShowRedisAndTheLedgerSideBySide() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(6)
            try await h.runWorker(untilProcessed: 6)
            let report = try await OffsetsReader(redis: h.redis, ledger: h.ledger).read(stream: "events")
            #expect(report.length == 6)
            let group = try #require(report.groups.first)
            #expect(group.name == "invalidators" && group.pending == 0 && group.lag == 0)
            let consumer = try #require(group.consumers.first)
            #expect(consumer.name == "w1" && consumer.inGroup && consumer.pending == 0)
            #expect(
                consumer.lastAckedID == report.lastGeneratedID && consumer.lastDeliveredID == report.lastGeneratedID)
            do {
                _ = try await OffsetsReader(redis: h.redis, ledger: h.ledger).read(stream: "nope")
                Issue.record("a missing stream was read")
            } catch let error as OperationsError {
                #expect(error.code == .notFound)
            }
        }
    }
}

extension EventBrowserTests {
    @Test func showListsTheWarmJobsAnEventAskedFor() async throws {
        try await OperationsHarness.with { h in
            try await h.publishSessions(2)
            try await h.runWorker(untilProcessed: 2)
            try await h.ledger.recordWarmJobs([
                LedgerWarmJob(
                    target: "http://127.0.0.1:9/sessions?teacher=t1", eventID: "e1", status: .failed, httpStatus: 503,
                    attempts: 3,
                    error: "HTTP 503", worker: "w1", scheduledAt: .now(), finishedAt: .now())
            ])
            let detail = try await EventBrowser(ledger: h.ledger).show(id: "e1")
            let job = try #require(detail.warmJobs.first)
            #expect(detail.warmJobs.count == 1)
            #expect(job.target == "http://127.0.0.1:9/sessions?teacher=t1" && job.status == .failed)
            #expect(job.httpStatus == 503 && job.attempts == 3 && job.worker == "w1")
            #expect(try await EventBrowser(ledger: h.ledger).show(id: "e0").warmJobs.isEmpty)
        }
    }
}
