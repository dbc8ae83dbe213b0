import Foundation
import HTTPTypes
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Predictive warming end to end, every part real and in its own process: the example service
/// (Hummingbird) records the demand of its cached lists, a `tagwave worker` daemon with
/// `warm.predictive` follows an invalidation by re-requesting the lists asked for often, and
/// `tagwave cache demand` shows what it learned.
@Suite("Predictive warming between the example service and a worker daemon")
struct PredictiveWarmingTests {
    @Test func afterAnInvalidationTheListAskedForOftenIsWarmedAndTheOneAskedOnceIsNot() async throws {
        try await RedisServer.with { server in
            let service = try await ExampleService.start(redisURL: server.url)
            defer { service.stop() }
            let tagwave = try TestChild.executable().deletingLastPathComponent().appendingPathComponent("tagwave").path
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tagwave-predictive-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            // Demand: teacher t1's list twenty times, t2's once. The first of each reads the database.
            for _ in 0..<20 { #expect(try await service.get("/sessions?teacher=t1").status == .ok) }
            #expect(try await service.get("/sessions?teacher=t2").cache == "MISS")
            #expect(try await service.databaseReads() == 2)
            // The service adds its counts to Redis every second: wait until the CLI shows them.
            let demand = { (tag: String) throws -> [[String: Any]] in
                let run = try Self.run(tagwave, ["cache", "demand", tag, "--redis-url", server.url, "--json"])
                let rows = try #require(try JSONSerialization.jsonObject(with: Data(run.utf8)) as? [[String: Any]])
                return try #require(rows.first?["targets"] as? [[String: Any]])
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while try demand("sessions").count < 2 {
                try #require(ContinuousClock.now < deadline, "the service's demand never reached Redis")
                try await Task.sleep(for: .milliseconds(100))
            }
            let learned = try demand("sessions")
            #expect(learned.compactMap { $0["target"] as? String } == ["/sessions?teacher=t1", "/sessions?teacher=t2"])
            let t1Rate = try #require(learned.first?["perMinute"] as? Double)

            // A worker whose rule invalidates the teacher's tag and every list ("sessions"), and warms
            // nothing itself: predictive warming alone decides. t1's list (20 requests) is above the
            // threshold of 0.5 a minute, t2's (1 request) is below it.
            let config = directory.appendingPathComponent("worker.yaml").path
            try """
                redis: { url: "\(server.url)" }
                stream: { name: "events", group: "invalidators", block_ms: 50, trim_interval_s: 0 }
                ledger: { path: "\(directory.appendingPathComponent("ledger.sqlite").path)" }
                admin: { bind: "off" }
                rules:
                  - event: session.created
                    invalidate: ["teacher:{teacherId}", "sessions"]
                warm:
                  delay_ms: 10
                  predictive: { base_url: "http://127.0.0.1:\(service.port)", min_per_minute: 0.5, max_per_tag: 10 }
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let worker = try ChildProcess(tagwave, ["worker", "--config", config, "--consumer", "w1", "--log-level", "debug"])
            defer {
                worker.send(SIGTERM)
                worker.waitBlocking()
            }

            // A write: the service publishes session.created; the worker invalidates both tags, then
            // GETs t1's list (read from the database again, and cached), not t2's.
            let created = try await service.request(.post, "/sessions", body: #"{"teacherId":"t1","schoolId":"s9","title":"Algebra"}"#)
            #expect(created.status == .created)
            let warmedBy = ContinuousClock.now + .seconds(30)
            while try await service.databaseReads() < 3 {
                try #require(ContinuousClock.now < warmedBy, "the worker never warmed t1's list:\n\(worker.output)")
                try await Task.sleep(for: .milliseconds(50))
            }

            let t1 = try await service.get("/sessions?teacher=t1")
            #expect(t1.cache == "HIT", "warmed after the invalidation: \(t1.headers)")
            #expect(t1.body.contains("Algebra"), "the warm read the database after the write")
            #expect(try await service.get("/sessions?teacher=t2").cache == "MISS", "asked once: not warmed")
            #expect(try await service.databaseReads() == 4)
            #expect(worker.output.contains("predictive warming: 1 targets predicted for 2 invalidated tags"), "\(worker.output)")
            #expect(worker.output.contains("tagwave.warm.target=http://127.0.0.1:\(service.port)/sessions?teacher=t1"))
            #expect(!worker.output.contains("/sessions?teacher=t2"), "\(worker.output)")

            // The warmer's own GET was not counted as demand (t1's rate only decayed; our GET above
            // may have been flushed already, so allow one request more than the twenty).
            try await Task.sleep(for: .milliseconds(1200))
            let after = try #require(try demand("teacher:t1").first?["perMinute"] as? Double)
            #expect(after < t1Rate * 21 / 20 + 1e-9, "demand rose from \(t1Rate) to \(after) per minute: the warm counted")
        }
    }

    /// Runs `tagwave` to its end and returns its standard output; a failure throws with its output.
    static func run(_ tagwave: String, _ arguments: [String]) throws -> String {
        let process = try ChildProcess(tagwave, arguments)
        process.waitBlocking()
        return process.output
    }
}
