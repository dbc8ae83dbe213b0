import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("tagwave events, against a ledger filled by a real worker")
struct EventsCommandTests {
    @Test func eventsListShowsATableNewestFirstAndJSONAndHonoursEveryFilter() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let table = try await f.tagwave("events", "list")
            #expect(table.status == 0, "\(table)")
            #expect(table.lines.first?.hasPrefix("OCCURRED") == true)
            #expect(table.lines.first?.contains("EVENT") == true && table.lines.first?.contains("TAGS") == true)
            #expect(table.lines.count == 15)
            #expect(table.lines[1].contains("usr-2"))  // newest first
            #expect(table.output.contains("teacher:t1, school:s1:sessions"))

            let json = try #require(try await f.tagwave("events", "list", "--json").json() as? [[String: Any]])
            #expect(json.count == 14)
            #expect(json.last?["id"] as? String == "evt-0")
            #expect(json.last?["tags"] as? [String] == ["teacher:t0", "school:s0:sessions"])
            #expect((json.last?["payload"] as? [String: Any])?["teacherId"] as? String == "t0")

            let users = try await f.tagwave("events", "list", "--type", "user.updated")
            #expect(users.lines.count == 3 && users.output.contains("usr-1") && !users.output.contains("evt-"))
            let source = try #require(
                try await f.tagwave("events", "list", "--source", "accounts", "--json").json() as? [[String: Any]])
            #expect(source.count == 2)
            let tagged = try #require(
                try await f.tagwave("events", "list", "--tag", "teacher:t3", "--json").json() as? [[String: Any]])
            #expect(tagged.compactMap { $0["id"] as? String }.sorted() == ["evt-3"])
            let limited = try #require(
                try await f.tagwave(
                    "events", "list", "--since", "1h", "--status", "processed", "--limit", "4", "--json"
                ).json() as? [[String: Any]])
            #expect(limited.count == 4)
            let future = try await f.tagwave("events", "list", "--until", "1h")
            #expect(future.status == 0 && future.output.isEmpty && future.errors.contains("no event matches"))
        }
    }

    @Test func eventsShowPrintsTheEnvelopeEveryOutcomeAndItsTagsAndAuditEventIsTheSame() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let shown = try await f.tagwave("events", "show", "evt-4")
            #expect(shown.status == 0, "\(shown)")
            for expected in [
                "event            evt-4", "session.created", "status           processed after 1 delivery",
                "worker           w1",
                #"payload          {"teacherId":"t4","schoolId":"s1"}"#, "OUTCOMES (1)",
                "rules    invalidate  succeeded",
                "teacher:t4 (0), school:s1:sessions (0)", "WARM JOBS (0)",
            ] {
                #expect(shown.output.contains(expected), "missing \(expected) in\n\(shown.output)")
            }
            let json = try #require(try await f.tagwave("events", "show", "evt-4", "--json").json() as? [String: Any])
            let event = try #require(json["event"] as? [String: Any])
            #expect(
                event["status"] as? String == "processed" && event["attempts"] as? Int == 1
                    && event["source"] as? String == "api")
            let outcome = try #require((event["outcomes"] as? [[String: Any]])?.first)
            #expect(outcome["kind"] as? String == "invalidate" && outcome["replayRunID"] is NSNull)
            #expect(
                (outcome["tags"] as? [[String: Any]])?.compactMap { $0["tag"] as? String } == [
                    "teacher:t4", "school:s1:sessions",
                ])
            #expect(json["warmJobs"] as? [Any] != nil)

            let audited = try await f.tagwave("audit", "event", "evt-4")
            #expect(audited.status == 0 && audited.output == shown.output)
        }
    }

    @Test func eventsExportWritesCSVAndJSONLinesWithTheSameFilters() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let file = f.directory.appendingPathComponent("export.csv").path
            let csv = try await f.tagwave(
                "events", "export", "--format", "csv", "--output", file, "--type", "session.created")
            #expect(csv.status == 0 && csv.errors.contains("exported 12 events to \(file)"), "\(csv)")
            let rows = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
            #expect(rows.count == 13)
            #expect(rows.first?.hasPrefix("seq,event_id,type,source,stream,stream_id,occurred_at") == true)
            #expect(rows[1].contains(",evt-0,session.created,api,events,"))
            #expect(rows[1].contains(#","{""teacherId"":""t0"",""schoolId"":""s0""}""#))

            let jsonl = try await f.tagwave("events", "export", "--format", "jsonl", "--tag", "school:s2:sessions")
            #expect(jsonl.status == 0)
            let ids = try jsonl.lines.map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["id"] as? String
            }
            #expect(ids == ["evt-2", "evt-5", "evt-8", "evt-11"])  // oldest first
            let bad = try await f.tagwave("events", "export", "--format", "xml")
            #expect(bad.status == 64 && bad.errors.contains("use jsonl or csv"))
        }
    }

    @Test func eventsTailFollowsNewlyRecordedEventsWithTheirTagsAndExitsZeroOnSIGINT() async throws {
        try await CLIFixture.with { f in
            try await f.publishSessions(3)
            let worker = try f.startWorker()
            defer { worker.terminate() }
            try await f.waitUntilRecorded(processed: 3, worker: worker)

            let (tail, errors) = try f.start(
                ["events", "tail", "--config", f.config, "--last", "1", "--interval-ms", "20"], name: "tail")
            defer { tail.terminate() }
            try await waitFor("the tail to start") { tail.output.contains("evt-2") }
            try await f.publish([("user.updated", #"{"userId":"u9"}"#, "usr-9")])
            try await f.publishSessions(2, from: 3)
            try await waitFor("the tail to print the new events") { tail.output.contains("evt-4") }
            tail.send(SIGINT)
            #expect(try await tail.wait(timeout: .seconds(10)) == 0)
            let lines = tail.lines
            #expect(lines.count == 4, "\(tail.output)")
            #expect(
                lines.map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] } == [
                    "evt-2", "usr-9", "evt-3", "evt-4",
                ])
            #expect(
                lines[1].contains("user.updated") && lines[1].contains("processed") && lines[1].contains("→ user:u9"))
            #expect(lines[3].contains("→ teacher:t4, school:s1:sessions"))
            #expect((try? String(contentsOfFile: errors, encoding: .utf8))?.contains("following") == true)

            let (jsonTail, _) = try f.start(
                ["events", "tail", "--config", f.config, "--last", "2", "--json", "--type", "user.updated"],
                name: "json-tail")
            defer { jsonTail.terminate() }
            try await waitFor("the JSON tail") { jsonTail.output.contains("usr-9") }
            jsonTail.send(SIGINT)
            #expect(try await jsonTail.wait(timeout: .seconds(10)) == 0)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(jsonTail.lines[0].utf8)) as? [String: Any])
            #expect(object["id"] as? String == "usr-9" && jsonTail.lines.count == 1)
        }
    }
}
