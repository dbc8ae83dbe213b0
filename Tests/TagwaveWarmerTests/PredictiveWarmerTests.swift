import Logging
import TagwaveCache
import TagwaveLedger
import TagwaveTestSupport
import TagwaveWarmer
import TagwaveWorker
import Testing

/// Predictive warming inside the warmer: recorded demand turned into warm requests after an
/// invalidation, through the same coalescing and ledger rows as the targets rules name.
@Suite("Predictive warming against a real worker, Redis, ledger and HTTP backend")
struct PredictiveWarmerTests {
    @Test func theMostRequestedTargetsOfAnInvalidatedTagAreWarmedOnceEvenWhenARuleNamesOneToo() async throws {
        try await WarmerHarness.with { h in
            var configuration = DemandConfiguration()
            configuration.flushInterval = .seconds(3600)
            let demand = DemandRecorder(redis: h.redis, configuration: configuration, logger: Logger(label: "demand"))
            for (path, count) in [("/a", 30), ("/b", 20), ("/c", 10), ("/d", 1)] {
                for _ in 0..<count { demand.record(target: path, tags: ["teacher:t1"]) }
            }
            demand.record(target: "/other", tags: ["teacher:t2"])
            await demand.flush()

            let warmer = h.warmer(predictive: PredictiveWarming(baseURL: h.url(""), minimumPerMinute: 0.01, maximumPerTag: 2))
            let worker = h.worker(rules: [try sessionRule(warm: [h.url("/a")])], warmer: warmer)
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-predicted")])
                try await h.eventually("both warm jobs done") { warmer.metrics.succeeded == 2 }
                try await h.eventually("every request settled") { warmer.metrics.pending == 0 }
            }
            // The two most requested of the tag: /a (also the rule's, one GET for both) and /b.
            #expect(h.http.targets == ["/a": 1, "/b": 1])
            let metrics = warmer.metrics
            #expect(metrics.predicted == 2 && metrics.scheduled == 3 && metrics.coalesced == 1 && metrics.failed == 0)
            let jobs = try await h.ledger.warmJobs(eventID: "evt-predicted")
            #expect(Set(jobs.map(\.target)) == [h.url("/a"), h.url("/b")])
            #expect(jobs.filter { $0.status == .succeeded }.count == 2 && jobs.filter { $0.status == .coalesced }.count == 1)
        }
    }

    @Test func withoutPredictiveWarmingRecordedDemandWarmsNothing() async throws {
        try await WarmerHarness.with { h in
            let demand = DemandRecorder(redis: h.redis, logger: Logger(label: "demand"))
            for _ in 0..<30 { demand.record(target: "/a", tags: ["teacher:t1"]) }
            await demand.flush()
            let warmer = h.warmer()
            #expect(!warmer.followsInvalidations)
            let worker = h.worker(rules: [try sessionRule(warm: [])], warmer: warmer)
            try await h.running([warmer, worker]) {
                try await h.publish([("session.created", #"{"teacherId":"t1"}"#, "evt-1")])
                try await h.eventually("the event processed") { try await h.processedCount() == 1 }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(h.http.targets.isEmpty && warmer.metrics.scheduled == 0)
        }
    }
}
