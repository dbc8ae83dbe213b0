import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("tagwave audit, offsets, stats and health")
struct AuditAndStatusCommandTests {
    @Test func auditTagAndKeyNameTheEventsThatInvalidatedThemWhenAndByWhichWorker() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let tag = try await f.tagwave("audit", "tag", "school:s1:sessions")
            #expect(tag.status == 0, "\(tag)")
            #expect(tag.lines.first?.hasPrefix("INVALIDATED") == true && tag.lines.count == 5)
            #expect(
                tag.lines.dropFirst().allSatisfy {
                    $0.contains("school:s1:sessions") && $0.contains("  w1  ") && $0.hasSuffix("live")
                })
            let json = try #require(
                try await f.tagwave("audit", "tag", "teacher:t2", "--json").json() as? [[String: Any]])
            #expect(json.compactMap { ($0["event"] as? [String: Any])?["id"] as? String } == ["evt-2"])
            #expect(json.first?["worker"] as? String == "w1" && json.first?["replayRunID"] is NSNull)
            let none = try await f.tagwave("audit", "tag", "teacher:t2", "--until", "2000-01-01")
            #expect(
                none.status == 0 && none.output.isEmpty
                    && none.errors.contains("no recorded event invalidated teacher:t2"))

            // An entry written after the history, under a tag that history invalidated.
            _ = try await f.run([
                "cache", "set", "sessions:teacher:t2", #"["s9"]"#, "--tag", "teacher:t2", "--tag", "sessions",
                "--redis-url", f.server.url,
            ])
            let key = try await f.tagwave("audit", "key", "sessions:teacher:t2")
            #expect(key.status == 0, "\(key)")
            #expect(
                key.lines.first?.hasPrefix("sessions:teacher:t2 (tw:e:sessions:teacher:t2): readable, fresh until")
                    == true)
            // Written and read under the version the history's invalidation gave teacher:t2.
            let teacher = key.lines.first { $0.hasPrefix("teacher:t2 ") }?.split(separator: " ").map(String.init) ?? []
            #expect(teacher.count == 4 && teacher[1] == teacher[2] && teacher[1] != "v0" && teacher[3] == "current", "\(key.output)")
            #expect(key.output.contains("sessions    v0"), "\(key.output)")
            #expect(key.output.contains("evt-2"))
            let keyJSON = try #require(
                try await f.tagwave("audit", "key", "sessions:teacher:t2", "--json").json() as? [String: Any])
            #expect(keyJSON["readable"] as? Bool == true)
            #expect(
                (keyJSON["tags"] as? [[String: Any]])?.compactMap { $0["tag"] as? String } == [
                    "teacher:t2", "sessions",
                ])
            let missing = try await f.tagwave("audit", "key", "sessions:teacher:none")
            #expect(missing.status == 1 && missing.errors.contains("no cache entry under sessions:teacher:none"))
        }
    }

    @Test func offsetsStatsAndHealthReportTheGroupTheQueueAndExitByHealth() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let offsets = try await f.tagwave("offsets")
            #expect(offsets.status == 0, "\(offsets)")
            #expect(
                offsets.lines.first
                    == "stream events: 15 entries, last id \(try await f.redis.xinfoStream("events").lastGeneratedID?.description ?? "?")"
            )
            #expect(offsets.output.contains("invalidators  (group)") && offsets.output.contains("invalidators  w1 "))
            let offsetsJSON = try #require(try await f.tagwave("offsets", "--json").json() as? [String: Any])
            let group = try #require((offsetsJSON["groups"] as? [[String: Any]])?.first)
            #expect(group["pending"] as? Int == 0 && group["lag"] as? Int == 0)
            let consumer = try #require((group["consumers"] as? [[String: Any]])?.first)
            #expect(
                consumer["name"] as? String == "w1"
                    && consumer["lastAckedID"] as? String == offsetsJSON["lastGeneratedID"] as? String)

            let stats = try await f.tagwave("stats")
            #expect(stats.status == 0 && stats.output.contains("events, last minute            14"), "\(stats)")
            #expect(stats.output.contains("dead letters open              1 (payload_not_object 1)"))
            let statsJSON = try #require(try await f.tagwave("stats", "--json").json() as? [String: Any])
            #expect((statsJSON["throughput"] as? [String: Any])?["eventsLastHour"] as? Int == 14)
            #expect((statsJSON["stream"] as? [String: Any])?["pending"] as? Int == 0)
            #expect((statsJSON["cache"] as? [String: Any])?["hitRate"] is Double)

            // One open dead letter: degraded (exit 1) by default. (Latency and hit rate depend on the test machine's load.)
            let degraded = try await f.tagwave(
                "health", "--threshold", "hit-rate=0/0", "--threshold", "latency=5000/5000")
            #expect(degraded.status == 1, "\(degraded)")
            #expect(
                degraded.lines.first == "degraded" && degraded.output.contains("1 dead letter waits for an operator"))
            let healthy = try await f.tagwave(
                "health", "--threshold", "hit-rate=0/0", "--threshold", "latency=5000/5000", "--threshold",
                "dead-letters=5/10", "--json")
            #expect(healthy.status == 0, "\(healthy)")
            let report = try #require(try healthy.json() as? [String: Any])
            #expect(report["overall"] as? String == "healthy")
            let redis = try #require(report["redis"] as? [String: Any])
            #expect(
                redis["connected"] as? Bool == true && redis["latency"] is Double && redis["keyCount"] is Int
                    && redis["memoryUsage"] is NSNull)
            #expect((report["cache"] as? [String: Any])?["hitRate"] is Double)
            #expect((report["stream"] as? [String: Any])?["length"] as? Int == 15)
            #expect((report["ledger"] as? [String: Any])?["deadLetters"] as? Int == 1)
            let strict = try await f.tagwave(
                "health", "--threshold", "dead-letters=0/0", "--threshold", "hit-rate=0/0", "--threshold",
                "latency=5000/5000")
            #expect(strict.status == 2 && strict.lines.first == "unhealthy")

            // The configuration's health: section is what it judges by (the admin server's /health
            // too), each --threshold over it.
            let lenient = f.directory.appendingPathComponent("lenient.yaml").path
            try (try String(contentsOfFile: f.config, encoding: .utf8)
                + "\nhealth: { dead_letters: \"5/10\", latency: \"5000/5000\", hit_rate: \"0/0\" }\n")
                .write(toFile: lenient, atomically: true, encoding: .utf8)
            let configured = try await f.run(["health", "--config", lenient])
            #expect(configured.status == 0, "\(configured)")
            #expect(try await f.run(["health", "--config", lenient, "--threshold", "dead-letters=0/0"]).status == 2)
        }
    }
}
