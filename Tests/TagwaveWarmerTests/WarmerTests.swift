import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWarmer
import TagwaveWorker
import Testing

@Suite("The warmer against real workers, a real Redis, a real ledger and a real HTTP backend")
struct WarmerTests {
    @Test func aThousandEventsForOneTeacherWithinTheWindowMakeOneHTTPGet() async throws {
        try await WarmerHarness.with { h in
            let warmer = h.warmer(delay: .seconds(3))
            let worker = h.worker(
                rules: [try sessionRule(warm: [h.url("/api/v1/sessions?teacher={teacherId}")])], warmer: warmer)
            try await h.running([warmer, worker]) {
                try await h.publish(
                    (0..<1000).map { ("session.created", #"{"teacherId":"t1","sessionId":"s\#($0)"}"#, "e\($0)") })
                try await h.eventually("1,000 events processed") { try await h.processedCount() == 1000 }
                try await h.eventually("the warm job done") { warmer.metrics.succeeded == 1 }
            }
            #expect(h.http.requests(to: "/api/v1/sessions") == 1)
            #expect(h.http.requests(toTarget: "/api/v1/sessions?teacher=t1") == 1)
            let metrics = warmer.metrics
            #expect(metrics.scheduled == 1000)
            #expect(metrics.coalesced == 999)
            #expect(metrics.succeeded == 1 && metrics.failed == 0 && metrics.pending == 0)
            #expect(metrics.attempts == 1 && metrics.latency.count == 1)

            // Every event has its row: one job, 999 coalesced into it, each saying so.
            let jobs = try await h.ledger.warmJobs(target: h.url("/api/v1/sessions?teacher=t1"), limit: 5000)
            #expect(jobs.count == 1000)
            let done = try #require(jobs.first { $0.status == .succeeded })
            #expect(done.httpStatus == 200 && done.attempts == 1 && done.worker == "w1")
            let coalesced = jobs.filter { $0.status == .coalesced }
            #expect(coalesced.count == 999)
            #expect(
                coalesced.allSatisfy { $0.attempts == 0 && $0.error?.contains("event \(done.eventID ?? "?")") == true })
            #expect(Set(jobs.compactMap(\.eventID)).count == 1000)
        }
    }

    @Test func aTargetThatFailsOrHangsIsRetriedThenRecordedFailedWhileTheEventIsAckedAndInvalidated() async throws {
        try await WarmerHarness.with { h in
            h.http.respond(to: "/fail", with: .status(500))
            h.http.respond(to: "/hang", with: .hang)
            try await h.cache.set("sessions:teacher:t1", ["s1"], tags: ["teacher:t1"], ttl: 60)
            let warmer = h.warmer(timeout: .milliseconds(300), retries: 2)
            let rule = try sessionRule(warm: [h.url("/fail?teacher={teacherId}"), h.url("/hang?teacher={teacherId}")])
            let worker = h.worker(rules: [rule], warmer: warmer)
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-warm-fails")])
                try await h.eventually("the event processed") { try await h.processedCount() == 1 }
                // Acknowledged and invalidated, whatever the warm jobs do.
                try await h.eventually("the event acknowledged") { try await h.pending() == 0 }
                #expect(try await h.cache.get("sessions:teacher:t1", as: [String].self, tags: ["teacher:t1"]) == nil)
                try await h.eventually("both warm jobs failed") { warmer.metrics.failed == 2 }
                #expect(warmer.metrics.retried == 4 && warmer.metrics.attempts == 6)
                #expect(h.http.requests(toTarget: "/fail?teacher=t1") == 3)
                #expect(h.http.requests(toTarget: "/hang?teacher=t1") == 3)
                // The worker is not held up: the next event goes through as well.
                try await h.publish([("session.created", #"{"teacherId":"t2"}"#, "evt-after")])
                try await h.eventually("the next event processed") { try await h.processedCount() == 2 }
            }

            let event = try #require(try await h.ledger.event(id: "evt-warm-fails"))
            #expect(event.event.status == .processed)
            #expect(
                event.outcomes.contains { $0.kind == .invalidate && $0.invalidatedTags.map(\.tag) == ["teacher:t1"] })
            let jobs = try await h.ledger.warmJobs(eventID: "evt-warm-fails")
            #expect(jobs.count == 2)
            let failing = try #require(jobs.first { $0.target.contains("/fail") })
            #expect(failing.status == .failed && failing.attempts == 3 && failing.httpStatus == 500)
            #expect(failing.error?.contains("500") == true)
            let hanging = try #require(jobs.first { $0.target.contains("/hang") })
            #expect(hanging.status == .failed && hanging.attempts == 3 && hanging.httpStatus == nil)
            #expect(hanging.error?.contains("timed out") == true)
            // Warming began only after the event was recorded (and so after its invalidation and commit).
            let processedAt = try #require(event.event.processedAt)
            #expect(jobs.allSatisfy { $0.scheduledAt >= processedAt && ($0.finishedAt ?? processedAt) > processedAt })
        }
    }

    @Test func twoWorkersInOneGroupWarmEachTargetOnce() async throws {
        try await WarmerHarness.with { h in
            let redis2 = WarmerHarness.client(h.server)
            let rule = try sessionRule(warm: [h.url("/sessions?teacher={teacherId}")])
            // The window must outlast processing all 200 events, also on a loaded 2-core CI host
            // (batches of 50: few enough round trips to be quick, small enough for both workers to get some).
            // 8 s once was not enough while the whole suite ran.
            let warmer1 = h.warmer(owner: "w1", delay: .seconds(20))
            let warmer2 = h.warmer(owner: "w2", redis: redis2, delay: .seconds(20))
            let worker1 = h.worker(consumer: "w1", rules: [rule], warmer: warmer1, batchSize: 50)
            let worker2 = h.worker(consumer: "w2", redis: redis2, rules: [rule], warmer: warmer2, batchSize: 50)
            try await h.running([warmer1, warmer2, worker1, worker2]) {
                // Both consumers exist (and block on the stream) before the events arrive, so both get some.
                try await h.eventually("both consumers reading") {
                    (try? await h.redis.xinfoConsumers("events", group: "invalidators").count) == 2
                }
                try await h.publish((0..<200).map { ("session.created", #"{"teacherId":"t\#($0 % 20)"}"#, "e\($0)") })
                try await h.eventually("200 events processed") { try await h.processedCount() == 200 }
                try await h.eventually("20 targets warmed", timeout: .seconds(60)) {
                    warmer1.metrics.succeeded + warmer2.metrics.succeeded == 20
                }
            }
            await redis2.shutdown()
            #expect(worker1.progress.processed > 0 && worker2.progress.processed > 0)
            #expect(warmer1.metrics.scheduled > 0 && warmer2.metrics.scheduled > 0)
            #expect(warmer1.metrics.scheduled + warmer2.metrics.scheduled == 200)
            #expect(warmer1.metrics.coalesced + warmer2.metrics.coalesced == 180)
            for teacher in 0..<20 {
                #expect(h.http.requests(toTarget: "/sessions?teacher=t\(teacher)") == 1, "teacher t\(teacher)")
                let jobs = try await h.ledger.warmJobs(target: h.url("/sessions?teacher=t\(teacher)"))
                #expect(jobs.count == 10)
                #expect(jobs.filter { $0.status == .succeeded }.count == 1)
            }
            #expect(h.http.requests(to: "/sessions") == 20)
        }
    }

    @Test func aClosureWarmerRepopulatesTheKeyThroughGetOrSetAndAGetAfterwardsHits() async throws {
        try await WarmerHarness.with { h in
            let cache = h.cache
            let computed = Atomic<Int>(0)
            // A generous timeout: one attempt is asserted, and a loaded host must not turn it into two.
            let warmer = h.warmer(delay: .seconds(1), timeout: .seconds(10))
            warmer.register(name: "teacher-sessions") { target in
                let teacher = String(target.dropFirst("teacher-sessions:".count))
                _ = try await cache.getOrSet("sessions:teacher:\(teacher)", tags: ["teacher:\(teacher)"], ttl: 60) {
                    computed.add(1, ordering: .relaxed)
                    return ["s1", "s2"]
                }
            }
            let rule = InvalidationRule(
                eventType: "session.created", invalidate: [try TagTemplate("teacher:{teacherId}")])
            let worker = h.worker(rules: [rule], warmer: warmer)
            worker.on("session.created") { _, context in context.warm("teacher-sessions:t1") }
            try await cache.set("sessions:teacher:t1", ["s1"], tags: ["teacher:t1"], ttl: 60)

            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1","sessionId":"s2"}"#, "evt-closure")])
                try await h.eventually("the event processed") { try await h.processedCount() == 1 }
                // Invalidated: a miss until the warm job (one second later) runs.
                #expect(try await cache.get("sessions:teacher:t1", as: [String].self, tags: ["teacher:t1"]) == nil)
                try await h.eventually("warmed") { warmer.metrics.succeeded == 1 }
            }
            let hitsBefore = cache.statistics.snapshot.hits
            #expect(
                try await cache.get("sessions:teacher:t1", as: [String].self, tags: ["teacher:t1"]) == ["s1", "s2"])
            #expect(cache.statistics.snapshot.hits == hitsBefore + 1)
            #expect(computed.load(ordering: .relaxed) == 1)
            let jobs = try await h.ledger.warmJobs(eventID: "evt-closure")
            #expect(jobs.map(\.status) == [.succeeded])
            #expect(
                jobs.first?.target == "teacher-sessions:t1" && jobs.first?.attempts == 1
                    && jobs.first?.httpStatus == nil)
        }
    }

    @Test func anUnknownWarmerNameIsRecordedFailedWithoutRetries() async throws {
        try await WarmerHarness.with { h in
            let warmer = h.warmer()
            let rule = InvalidationRule(
                eventType: "session.created", invalidate: [try TagTemplate("teacher:{teacherId}")])
            let worker = h.worker(rules: [rule], warmer: warmer)
            worker.on("session.created") { _, context in context.warm("nobody-registered-this:t1") }
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-unknown")])
                try await h.eventually("failed") { warmer.metrics.failed == 1 }
            }
            let job = try #require(try await h.ledger.warmJobs(eventID: "evt-unknown").first)
            #expect(job.status == .failed && job.attempts == 1)
            #expect(job.error?.contains("Warmer.register(name: \"nobody-registered-this\")") == true)
        }
    }

    @Test func aRedirectIsNotFollowedAndIsRecordedFailed() async throws {
        try await WarmerHarness.with { h in
            h.http.respond(to: "/old", with: .redirect(to: "/new"))
            let warmer = h.warmer()
            let worker = h.worker(rules: [try sessionRule(warm: [h.url("/old?teacher={teacherId}")])], warmer: warmer)
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-redirect")])
                try await h.eventually("failed") { warmer.metrics.failed == 1 }
            }
            #expect(h.http.requests(to: "/old") == 1)
            #expect(h.http.requests(to: "/new") == 0)
            let job = try #require(try await h.ledger.warmJobs(eventID: "evt-redirect").first)
            #expect(job.status == .failed && job.httpStatus == 302 && job.attempts == 1)
            #expect(job.error?.contains("follows no redirects") == true)
        }
    }

    @Test func shutdownDropsJobsNotYetDueQuicklyRecordsThemSkippedAndReleasesTheirClaims() async throws {
        try await WarmerHarness.with { h in
            // Due in a minute: the shutdown must not wait for it (a loaded machine takes seconds to
            // publish, claim and stop, which is why the bound is half the delay, not a tight one).
            let warmer = h.warmer(delay: .seconds(60))
            let worker = h.worker(rules: [try sessionRule(warm: [h.url("/later?teacher={teacherId}")])], warmer: warmer)
            let started = ContinuousClock.now
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-shutdown")])
                try await h.eventually("claimed") {
                    (try await h.redis.send(RedisCommand("KEYS", "tw:w:*")).array?.count ?? 0) == 1
                }
                // The claim key is the protocol's: tw:w:<hex SHA-1 of the target>, held by this warmer for the window.
                let sha1 = try await h.redis.send(
                    RedisCommand(
                        "EVAL", "return redis.sha1hex(ARGV[1])", "0", RedisArgument(h.url("/later?teacher=t1"))))
                let key = "tw:w:\(sha1.string ?? "")"
                #expect(
                    try await h.redis.send(RedisCommand("GET", RedisArgument(key))).string?.hasPrefix("w1/") == true)
                let ttl = try await h.redis.send(RedisCommand("PTTL", RedisArgument(key))).int ?? 0
                #expect(ttl > 30_000 && ttl <= 60_000)
            }
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(h.http.requests(to: "/later") == 0)
            let job = try #require(try await h.ledger.warmJobs(eventID: "evt-shutdown").first)
            #expect(job.status == .skipped && job.attempts == 0)
            #expect(warmer.metrics.skipped == 1 && warmer.metrics.pending == 0)
            #expect(try await h.redis.send(RedisCommand("KEYS", "tw:w:*")).array?.count == 0)
        }
    }

    @Test func theRateLimitSpacesRequestsToDistinctTargets() async throws {
        try await WarmerHarness.with { h in
            let warmer = h.warmer(ratePerSecond: 20)
            let worker = h.worker(rules: [try sessionRule(warm: [h.url("/rate?teacher={teacherId}")])], warmer: warmer)
            let started = ContinuousClock.now
            try await h.running([warmer, worker]) {
                try await h.publish((0..<40).map { ("session.created", #"{"teacherId":"t\#($0)"}"#, "e\($0)") })
                try await h.eventually("40 warmed") { warmer.metrics.succeeded == 40 }
            }
            // A burst of 20, then 20 more at 20 per second: about one second at least.
            #expect(ContinuousClock.now - started >= .milliseconds(900))
            #expect(h.http.requests(to: "/rate") == 40)
        }
    }
}
