import Foundation
import TagwaveHealth
import Testing

/// The verdicts, from synthetic samples: no I/O.
@Suite("Health evaluation from synthetic samples")
struct HealthEvaluatorTests {
    /// A sample of a healthy deployment, to spoil one figure at a time.
    func healthy() -> HealthSample {
        var sample = HealthSample(takenAt: Date(timeIntervalSince1970: 1_714_564_800))
        sample.redisAddress = "127.0.0.1:6379"
        sample.redisConnected = true
        sample.redisLatency = .microseconds(300)
        sample.usedMemory = 1_000_000
        sample.maxMemory = 0
        sample.keyCount = 1247
        sample.streamLength = 500
        sample.consumerLag = 0
        sample.pending = 12
        sample.consumers = 2
        sample.hits = 24_419
        sample.misses = 1_428
        sample.hitRate = 94.48
        sample.hitRateSource = .cache
        sample.errorRate = 0.1
        sample.errorRateSource = .cache
        sample.deadLetters = 0
        sample.eventsPerSecond = 812.5
        sample.latestSeq = 10
        return sample
    }

    @Test func theDefaultsAreTheSeedsThresholdsPlusDocumentedStreamAndQueueLimits() {
        let thresholds = HealthThresholds()
        #expect(thresholds.hitRate == .init(warning: 80, critical: 60))
        #expect(thresholds.errorRate == .init(warning: 1, critical: 5))
        #expect(thresholds.redisLatencyMilliseconds == .init(warning: 10, critical: 50))
        #expect(thresholds.memoryUsage == .init(warning: 80, critical: 95))
        #expect(thresholds.consumerLag == .init(warning: 10_000, critical: 100_000))
        #expect(thresholds.pending == .init(warning: 5_000, critical: 50_000))
        #expect(thresholds.deadLetters == .init(warning: 0, critical: 1_000))
    }

    @Test func everyFigureWithinItsThresholdsIsHealthyWithNoReason() {
        let report = HealthEvaluator().evaluate(healthy())
        #expect(report.overall == .healthy)
        #expect(report.reasons.isEmpty)
    }

    @Test(arguments: [
        (85.0, HealthStatus.healthy), (79.9, .degraded), (60.0, .degraded), (59.9, .unhealthy),
    ])
    func aHitRateBelowEightyDegradesAndBelowSixtyIsUnhealthy(hitRate: Double, expected: HealthStatus) {
        var sample = healthy()
        sample.hitRate = hitRate
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == expected)
        if expected != .healthy { #expect(report.reasons.first?.component == "cache") }
    }

    @Test func aHitRateOverTooFewReadsIsNotJudged() {
        var sample = healthy()
        sample.hits = 1
        sample.misses = 9
        sample.hitRate = 10
        #expect(HealthEvaluator().evaluate(sample).overall == .healthy)
    }

    @Test(arguments: [(0.5, HealthStatus.healthy), (1.5, .degraded), (5.5, .unhealthy)])
    func anErrorRateAboveOneDegradesAndAboveFiveIsUnhealthy(errorRate: Double, expected: HealthStatus) {
        var sample = healthy()
        sample.errorRate = errorRate
        #expect(HealthEvaluator().evaluate(sample).overall == expected)
    }

    @Test(arguments: [(5, HealthStatus.healthy), (20, .degraded), (60, .unhealthy)])
    func aSlowPingDegradesAboveTenMillisecondsAndIsUnhealthyAboveFifty(milliseconds: Int, expected: HealthStatus) {
        var sample = healthy()
        sample.redisLatency = .milliseconds(milliseconds)
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == expected)
        #expect(report.redis.latency == Double(milliseconds))
    }

    @Test(arguments: [(50, HealthStatus.healthy), (90, .degraded), (96, .unhealthy)])
    func memoryUseIsJudgedAgainstMaxmemoryWhenOneIsSet(percent: Int, expected: HealthStatus) {
        var sample = healthy()
        sample.usedMemory = percent * 1_000
        sample.maxMemory = 100_000
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == expected)
        #expect(report.redis.memoryUsage == Double(percent))
    }

    @Test func memoryUseWithoutMaxmemoryIsNeverAReason() {
        var sample = healthy()
        sample.usedMemory = 50_000_000_000
        sample.maxMemory = 0
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == .healthy)
        #expect(report.redis.memoryUsage == nil)
    }

    @Test func growingLagAndPendingCrossTheirLevels() {
        var thresholds = HealthThresholds()
        thresholds.consumerLag = .init(warning: 100, critical: 1_000)
        thresholds.pending = .init(warning: 50, critical: 500)
        let evaluator = HealthEvaluator(thresholds: thresholds)
        var sample = healthy()
        var verdicts: [HealthStatus] = []
        for lag in [10, 200, 2_000] {
            sample.consumerLag = lag
            verdicts.append(evaluator.evaluate(sample).overall)
        }
        #expect(verdicts == [.healthy, .degraded, .unhealthy])
        sample.consumerLag = 0
        sample.pending = 600
        let report = evaluator.evaluate(sample)
        #expect(report.overall == .unhealthy)
        #expect(report.reasons.first?.message.contains("not acknowledged") == true)
    }

    @Test func aLagThatGrewWhileNothingWasRecordedMeansStalledWorkers() {
        var before = healthy()
        before.consumerLag = 3
        var now = healthy()
        now.consumerLag = 9
        let report = HealthEvaluator().evaluate(now, previous: before)
        #expect(report.overall == .degraded)
        #expect(report.reasons.first?.message.contains("stalled") == true)
        now.latestSeq = 11  // the workers recorded something: only slower
        #expect(HealthEvaluator().evaluate(now, previous: before).overall == .healthy)
    }

    @Test func anUnreachableRedisIsUnhealthyWithTheReasonWhateverTheOtherFigures() {
        var sample = HealthSample()
        sample.redisAddress = "127.0.0.1:1"
        sample.redisError = "cannot connect to 127.0.0.1:1: Connection refused"
        sample.deadLetters = 0
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == .unhealthy)
        #expect(report.redis.connected == false)
        #expect(report.reasons.first?.message.contains("Connection refused") == true)
    }

    @Test func openDeadLettersDegradeAndTheWorstReasonComesFirst() {
        var sample = healthy()
        sample.deadLetters = 3
        sample.redisLatency = .milliseconds(80)
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == .unhealthy)
        #expect(report.reasons.map(\.status) == [.unhealthy, .degraded])
        #expect(report.reasons.last?.message.contains("tagwave dlq list") == true)
    }

    @Test func thresholdsAreSetInTheCommandLineFormAndBadOnesAreExplained() throws {
        var thresholds = HealthThresholds()
        try thresholds.set("lag", "1000/20000")
        try thresholds.set("latency", "2.5/7")
        #expect(thresholds.consumerLag == .init(warning: 1_000, critical: 20_000))
        #expect(thresholds.redisLatencyMilliseconds == .init(warning: 2.5, critical: 7))
        #expect(throws: HealthThresholdError.self) { try thresholds.set("lag", "lots") }
        do {
            try thresholds.set("speed", "1/2")
            Issue.record("an unknown name was accepted")
        } catch {
            #expect("\(error)".contains("hit-rate, error-rate, latency"))
        }
    }

    @Test func theReportEncodesInTheSeedsHealthShapeWithNullsForUnknownFigures() throws {
        var sample = healthy()
        sample.consumerLag = nil
        let report = HealthEvaluator().evaluate(sample)
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        #expect(json["overall"] as? String == "healthy")
        let redis = try #require(json["redis"] as? [String: Any])
        #expect(redis["connected"] as? Bool == true)
        #expect(redis["latency"] as? Double == 0.3)
        #expect(redis["memoryUsage"] is NSNull)
        #expect(redis["keyCount"] as? Int == 1247)
        let cache = try #require(json["cache"] as? [String: Any])
        #expect(cache["hitRate"] as? Double == 94.48)
        #expect(cache["errorRate"] as? Double == 0.1)
        let stream = try #require(json["stream"] as? [String: Any])
        #expect(stream["lag"] is NSNull)
        #expect(stream["pending"] as? Int == 12)
        let decoded = try JSONDecoder().decode(HealthReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
    }
}

extension HealthEvaluatorTests {
    @Test func theLedgersDeadLetterRateIsJudgedOnlyOverEnoughEvents() {
        var sample = healthy()
        sample.errorRateSource = .ledger
        sample.errorRate = 33.3
        sample.errorRateBasis = 3
        #expect(HealthEvaluator().evaluate(sample).overall == .healthy)
        sample.errorRate = 10
        sample.errorRateBasis = 200
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == .unhealthy)
        #expect(report.reasons.first?.message.contains("of the 200 events of the last hour were dead-lettered") == true)
    }
}

extension HealthEvaluatorTests {
    @Test func redisKeyspaceHitsAreReportedButJudgedOnlyWhenAskedFor() {
        var sample = healthy()
        sample.hitRateSource = .redis
        sample.hitRate = 40
        let report = HealthEvaluator().evaluate(sample)
        #expect(report.overall == .healthy && report.cache.hitRate == 40 && report.cache.hitRateSource == .redis)
        var thresholds = HealthThresholds()
        thresholds.judgeKeyspaceHitRate = true
        #expect(HealthEvaluator(thresholds: thresholds).evaluate(sample).overall == .unhealthy)
    }
}
