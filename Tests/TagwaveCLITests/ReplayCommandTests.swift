import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("tagwave replay, against a real Redis and a ledger filled by a real worker")
struct ReplayCommandTests {
    @Test func aDryRunPrintsWhatEachEventWouldInvalidateAndChangesNothingInRedis() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)
            for teacher in ["t1", "t2"] {
                let stored = try await f.run([
                    "cache", "set", "sessions:teacher:\(teacher)", #"["s1"]"#, "--tag", "teacher:\(teacher)",
                    "--redis-url", f.server.url,
                ])
                #expect(stored.status == 0, "\(stored)")
            }
            let before = try await f.snapshot()

            let dry = try await f.tagwave("replay", "--since", "1h", "--type", "session.created", "--dry-run")
            #expect(dry.status == 0, "\(dry)")
            #expect(dry.output.contains("SEQ  EVENT   TYPE             OCCURRED"))
            #expect(
                dry.output.contains("evt-1   session.created") && dry.output.contains("teacher:t1, school:s1:sessions"))
            #expect(
                dry.output.contains(
                    "12 events would invalidate 13 distinct tags and warm 0 targets; nothing was changed in Redis"))
            #expect(try await f.snapshot() == before)

            // It does not even need Redis.
            let offline = try await f.tagwave(
                "replay", "--all", "--dry-run", "--json", "--redis-url", "redis://127.0.0.1:1/0")
            #expect(offline.status == 0, "\(offline)")
            let summary = try #require(try offline.json() as? [String: Any])
            #expect((summary["run"] as? [String: Any])?["dryRun"] as? Bool == true)
            let plan = try #require(summary["plan"] as? [[String: Any]])
            #expect(plan.count == 14)
            #expect(plan.first { $0["eventID"] as? String == "usr-1" }?["invalidate"] as? [String] == ["user:u1"])
            #expect(try await f.snapshot() == before)
            #expect(
                try await f.run(["cache", "get", "sessions:teacher:t1", "--redis-url", f.server.url]).output
                    == "[\"s1\"]\n")
        }
    }

    @Test func aReplayInterruptedWithSIGINTResumesWithoutRedoingFinishedEvents() async throws {
        try await CLIFixture.with { f in
            try await f.publishSessions(1_500)
            try await f.fillLedger(processed: 1_500)
            let before = try await f.version(of: "teacher:t1")

            let (replay, errors) = try f.start(
                ["replay", "--config", f.config, "--type", "session.created", "--batch-size", "50", "--rate", "500"],
                name: "replay")
            defer { replay.terminate() }
            try await waitFor("the first progress line") {
                (try? String(contentsOfFile: errors, encoding: .utf8))?.contains("replay 1: ") == true
            }
            replay.send(SIGINT)
            #expect(try await replay.wait(timeout: .seconds(20)) == 130, "\(replay.output)")
            let stderr = try String(contentsOfFile: errors, encoding: .utf8)
            #expect(stderr.contains("continue with: tagwave replay --resume 1"), "\(stderr)")
            #expect(replay.output.contains("replay 1 interrupted: "))
            let stopped = try #require(try await f.withLedger { try await $0.replayRun(id: 1) })
            #expect(stopped.status == .interrupted && stopped.eventsDone > 0 && stopped.eventsDone < 1_500)
            #expect(stopped.eventsDone % 50 == 0 && stopped.lastEventSeq == Int64(stopped.eventsDone))
            let runs = try await f.tagwave("replay", "--list")
            #expect(runs.output.contains("interrupted") && runs.output.contains("--type session.created"))

            let resumed = try await f.tagwave("replay", "--resume", "1")
            #expect(resumed.status == 0, "\(resumed)")
            #expect(
                resumed.output.contains(
                    "replay 1 completed (resumed): 1500/1500 events, \(1_500 - stopped.eventsDone) now"))
            let counts = try await f.withLedger { try await $0.replayOutcomeCounts(run: 1) }
            #expect(counts.events == 1_500 && counts.outcomes == 1_500 && counts.repeated == 0)
            #expect(try await f.version(of: "teacher:t1") > before)
            let again = try await f.tagwave("replay", "--resume", "1")
            #expect(again.status == 64 && again.errors.contains("is completed"))
        }
    }

    @Test func aReplayOfOneEventRecordsItsOutcomeUnderTheRunAndShowsInItsHistory() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)
            let before = try await f.version(of: "user:u2")
            let replay = try await f.tagwave("replay", "--id", "usr-2", "--json")
            #expect(replay.status == 0, "\(replay)")
            let summary = try #require(try replay.json() as? [String: Any])
            #expect(summary["eventsReplayed"] as? Int == 1 && summary["tagsInvalidated"] as? Int == 1)
            #expect(try await f.version(of: "user:u2") == before + 1)
            let shown = try await f.tagwave("events", "show", "usr-2")
            #expect(
                shown.output.contains("OUTCOMES (2)") && shown.output.contains("run 1")
                    && shown.output.contains("auditor@"))
            let missing = try await f.tagwave("replay", "--id", "usr-404")
            #expect(missing.status == 1 && missing.errors.contains("no event usr-404"))
        }
    }
}

extension ReplayCommandTests {
    @Test func aWarmOnlyReplayHandsTheTargetsToAWarmerWaitsForItsJobsAndInvalidatesNothing() async throws {
        // In this process, on a port it bound itself: nothing else can take the port in between.
        let backend = try TestHTTPServer()
        defer { backend.stop() }
        let port = backend.port
        try await CLIFixture.with(warmBackend: "http://127.0.0.1:\(port)") { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)
            let version = try await f.version(of: "user:u1")
            try await Task.sleep(for: .milliseconds(50))  // past the live warm's coalescing window

            let replay = try await f.tagwave("replay", "--id", "usr-1", "--only", "warm")
            #expect(replay.status == 0, "\(replay)")
            #expect(replay.errors.contains("warm targets: 1 warmed, 0 failed"), "\(replay)")
            #expect(try await f.version(of: "user:u1") == version)
            let shown = try #require(try await f.tagwave("events", "show", "usr-1", "--json").json() as? [String: Any])
            let jobs = try #require(shown["warmJobs"] as? [[String: Any]])
            let replayed = try #require(jobs.first { $0["worker"] as? String == "tagwave-cli" }, "\(jobs)")
            #expect(replayed["status"] as? String == "succeeded" && replayed["httpStatus"] as? Int == 200)
            #expect(replayed["target"] as? String == "http://127.0.0.1:\(port)/?user=u1")
            let outcomes = try #require((shown["event"] as? [String: Any])?["outcomes"] as? [[String: Any]])
            #expect(outcomes.contains { $0["kind"] as? String == "warm" && $0["replayRunID"] as? Int == 1 })
        }
    }
}
