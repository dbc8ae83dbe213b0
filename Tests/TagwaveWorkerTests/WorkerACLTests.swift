import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import TagwaveWorker
import Testing

/// deploy/redis/users.acl is what operators install: the worker's whole scenario runs as its
/// least-privilege user `tagwave-worker`, on a server that loads that very file.
@Suite("The worker as the least-privilege ACL user of deploy/redis/users.acl")
struct WorkerACLTests {
    static let aclFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/redis/users.acl").path

    @Test func theWorkersWholeScenarioNeedsNoCommandBeyondItsACL() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString).acl").path
        try FileManager.default.copyItem(atPath: Self.aclFile, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try await WorkerHarness.with(arguments: ["--aclfile", copy], username: "tagwave-worker", password: "CHANGE_ME") { h in
            // The least privilege is real: a command outside the list is refused.
            let refused = await #expect(throws: RedisError.self) { try await h.redis.send(RedisCommand("FLUSHALL")) }
            #expect(refused?.serverMessage?.hasPrefix("NOPERM") == true)

            try await h.cache.set("sessions:teacher:t1", ["s1"], tags: ["teacher:t1"], ttl: 60)
            try await h.redis.xgroupCreate("events", group: "invalidators", startID: "0")
            // An entry a dead consumer left pending, to be claimed.
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t0","schoolId":"s1"}"#, id: "abandoned")
            _ = try await h.redis.xreadgroup(group: "invalidators", consumer: "dead", stream: "events", count: 1)
            try await h.publish(type: "session.created", payload: #"{"teacherId":"t1","schoolId":"s1"}"#, id: "good")
            try await h.publish(type: nil, payload: "{}")
            try await h.publish(type: "user.updated", payload: #"{"userId":"u1"}"#, id: "flaky")
            let failures = Mutex(0)
            let worker = h.worker(claimIdle: .milliseconds(200), trimInterval: .milliseconds(100))
            worker.on("user.updated") { _, context in
                if failures.withLock({ $0 += 1; return $0 }) == 1 { throw CancellationError() }
                context.invalidate("user:u1")
            }
            let running = Task { try await worker.run() }
            defer { running.cancel() }
            try await h.eventually {
                let processed = try await h.processedCount()
                let letters = try await h.ledger.deadLetters().count
                return processed == 3 && letters == 1
            }
            #expect(try await h.cache.get("sessions:teacher:t1", as: [String].self) == nil)
            #expect(try await h.cache.reclaim() >= 1)
            try await h.eventually { try await h.redis.send(RedisCommand("XLEN", "events")).int == 0 }
            try await h.eventually { try await h.pending() == 0 }  // acknowledged after the commit
        }
    }

    @Test func theAppsCacheAndDemandAndTheWorkersForecastNeedNoCommandBeyondTheirACLs() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString).acl").path
        try FileManager.default.copyItem(atPath: Self.aclFile, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try await WorkerHarness.with(arguments: ["--aclfile", copy], username: "tagwave-worker", password: "CHANGE_ME") { h in
            let app = h.server.client(username: "tagwave-app", password: "CHANGE_ME")
            defer { Task { await app.shutdown() } }
            let refused = await #expect(throws: RedisError.self) { try await app.send(RedisCommand("XREADGROUP", "GROUP", "g", "c", "STREAMS", "events", ">")) }
            #expect(refused?.serverMessage?.hasPrefix("NOPERM") == true)

            // The application: a tagged cache with stampede protection, and the demand it records.
            let cache = TaggedCache(redis: app, logger: Logger(label: "test.app"))
            let value = try await cache.getOrSet("sessions:teacher:t1", tags: ["teacher:t1"], ttl: 60) { ["s1"] }
            #expect(try await cache.get("sessions:teacher:t1", as: [String].self, tags: ["teacher:t1"]) == value)
            var configuration = DemandConfiguration()
            configuration.maxTargetsPerTag = 1  // trims too
            let demand = DemandRecorder(redis: app, configuration: configuration, logger: Logger(label: "test.app"))
            for _ in 0..<3 { demand.record(target: "/sessions?teacher=t1", tags: ["teacher:t1"]) }
            demand.record(target: "/teachers/t1", tags: ["teacher:t1"])
            await demand.flush()
            #expect(demand.dropped == 0)
            try await cache.invalidate(tag: "teacher:t1")

            // The worker's warmer reads it back for predictive warming.
            let forecast = try await DemandForecaster(redis: h.redis).forecast(tags: ["teacher:t1"], minimumPerMinute: 1e-9, limit: 5)
            #expect(forecast.first?.map(\.target) == ["/sessions?teacher=t1"])
        }
    }
}
