import Foundation
import Logging
import TagwaveRedis
import TagwaveTestSupport
import Testing

@testable import TagwaveCache

/// Recorded demand, the memory of predictive warming: what `DemandRecorder` writes and
/// `DemandForecaster` reads, on a real Redis.
@Suite("Demand recorded under tags")
struct CacheDemandTests {
    static func recorder(_ redis: RedisClient, _ change: (inout DemandConfiguration) -> Void = { _ in }) -> DemandRecorder {
        var configuration = DemandConfiguration()
        configuration.flushInterval = .seconds(3600)  // the tests flush themselves
        change(&configuration)
        return DemandRecorder(redis: redis, configuration: configuration, logger: Logger(label: "demand"))
    }

    @Test func theOftenAskedAreForecastMostFirstAndTheRarelyAskedFallBelowTheThreshold() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let demand = Self.recorder(redis)
            for _ in 0..<20 { demand.record(target: "/sessions?teacher=1", tags: ["teacher:1", "sessions"]) }
            demand.record(target: "/teachers/1", tags: ["teacher:1"])
            await demand.flush()
            #expect(demand.recorded == 41)

            let forecaster = DemandForecaster(redis: redis)
            let all = try await forecaster.forecast(tags: ["teacher:1", "sessions", "nobody"], minimumPerMinute: 0.01, limit: 10)
            #expect(all.map { $0.map(\.target) } == [["/sessions?teacher=1", "/teachers/1"], ["/sessions?teacher=1"], []])
            // 20 requests just now, a half-life of 10 minutes: τ = 600 s / ln 2, and 20 / τ a second.
            let expected = 20 / (600 / DemandRecorder.ln2) * 60
            let rate = try #require(all.first?.first?.perMinute)
            #expect(abs(rate - expected) / expected < 0.01, "\(rate) per minute, expected \(expected)")

            let hot = try await forecaster.forecast(tags: ["teacher:1"], minimumPerMinute: 1, limit: 10)
            #expect(hot.map { $0.map(\.target) } == [["/sessions?teacher=1"]])
        }
    }

    @Test func olderRequestsWeighLessByHalfEveryHalfLife() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let demand = Self.recorder(redis) { $0.halfLife = .seconds(1) }
            for _ in 0..<8 { demand.record(target: "/old", tags: ["t"]) }
            let firstSent = ContinuousClock.now
            await demand.flush()
            let firstDone = ContinuousClock.now
            try await Task.sleep(for: .seconds(2))
            for _ in 0..<4 { demand.record(target: "/new", tags: ["t"]) }
            let secondSent = ContinuousClock.now
            await demand.flush()
            let secondDone = ContinuousClock.now

            let forecast = try await DemandForecaster(redis: redis).forecast(tags: ["t"], minimumPerMinute: 1e-9, limit: 10)[0]
            #expect(forecast.map(\.target) == ["/new", "/old"], "8 requests two half-lives ago weigh as 2: less than 4 now")
            let ratio = forecast[1].perMinute / forecast[0].perMinute
            // 8 × 2^-s / 4, with s the seconds between the two scripts' runs: bracketed by the clock
            // around the two flushes (a loaded machine may stretch either).
            func seconds(_ duration: Duration) -> Double {
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            }
            let lowest = 2 * pow(2, -seconds(secondDone - firstSent)), highest = 2 * pow(2, -seconds(secondSent - firstDone))
            #expect(ratio >= lowest * 0.99 && ratio <= highest * 1.01, "old/new = \(ratio), expected within \(lowest)...\(highest)")
        }
    }

    @Test func eachTagKeepsItsMostRequestedTargetsAndIsForgottenAfterTenHalfLives() async throws {
        try await RedisServer.with { server in
            let redis = server.client()
            let demand = Self.recorder(redis) {
                $0.maxTargetsPerTag = 3
                $0.halfLife = .seconds(30)
            }
            for count in 1...5 {
                for _ in 0..<count { demand.record(target: "/page/\(count)", tags: ["t"]) }
            }
            await demand.flush()
            let forecast = try await DemandForecaster(redis: redis).forecast(tags: ["t"], minimumPerMinute: 1e-9, limit: 10)
            #expect(forecast[0].map(\.target) == ["/page/5", "/page/4", "/page/3"])
            // Three targets and the half-life's member: bounded whatever the traffic.
            #expect(try await redis.send(RedisCommand("ZCARD", "tw:{t}:d")).int == 4)
            let lifetime = try await redis.send(RedisCommand("PTTL", "tw:{t}:d")).int ?? -2
            #expect(lifetime > 290_000 && lifetime <= 300_000, "PTTL \(lifetime) ms, expected ten half-lives (300 s)")
        }
    }

    @Test func pairsBeyondThePendingBoundAreDroppedAndCounted() async throws {
        try await RedisServer.with { server in
            let demand = Self.recorder(server.client()) { $0.maxPendingPairs = 2 }
            demand.record(target: "/a", tags: ["t"])
            demand.record(target: "/b", tags: ["t"])
            demand.record(target: "/c", tags: ["t"])  // a third pair: dropped
            demand.record(target: "/a", tags: ["t"])  // a pair already counted: counted
            demand.record(target: "/a", tags: ["bad{tag}"])  // refused by the cache: skipped
            #expect(demand.recorded == 3)
            #expect(demand.dropped == 1)
            await demand.flush()
            let forecast = try await DemandForecaster(redis: server.client()).forecast(tags: ["t"], minimumPerMinute: 1e-9, limit: 10)
            #expect(forecast[0].map(\.target) == ["/a", "/b"])
        }
    }

    @Test func aRecorderFlushesByItselfAfterItsInterval() async throws {
        try await RedisServer.with { server in
            let demand = Self.recorder(server.client()) { $0.flushInterval = .milliseconds(100) }
            demand.record(target: "/a", tags: ["t"])
            let forecaster = DemandForecaster(redis: server.client())
            let deadline = ContinuousClock.now + .seconds(10)
            while try await forecaster.forecast(tags: ["t"], minimumPerMinute: 1e-9, limit: 1)[0].isEmpty {
                try #require(ContinuousClock.now < deadline, "the recorded request never reached Redis")
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func aRecorderWhoseRedisIsGoneDropsItsCountsAndSaysSo() async throws {
        let port = try RedisServer.freePort()
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.connectTimeout = .milliseconds(200)
        let demand = DemandRecorder(redis: RedisClient(configuration: configuration, logger: Logger(label: "t")), logger: Logger(label: "t"))
        demand.record(target: "/a", tags: ["t", "u"])
        await demand.flush()
        #expect(demand.dropped == 2)
    }

    @Test func theDocumentedDemandScriptsAreTheOnesTheCacheRuns() throws {
        #expect(try DocumentedScripts.script(after: "**DEMAND_RECORD**")
                == DemandRecorder.recordScript.source.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try DocumentedScripts.script(after: "**DEMAND_FORECAST**")
                == DemandForecaster.forecastScript.source.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
