import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("tagwave dlq, against a poison event a real worker dead-lettered")
struct DLQCommandTests {
    @Test func aPoisonEventFixedWithARetryPayloadIsProcessedAndItsDeadLetterMarkedRetried() async throws {
        try await CLIFixture.with { f in
            try await f.publishHistory()
            try await f.fillLedger(processed: 14, deadLetters: 1)

            let list = try await f.tagwave("dlq", "list")
            #expect(list.status == 0 && list.lines.count == 2, "\(list)")
            #expect(list.lines[0].hasPrefix("ID  DEAD-LETTERED") && list.lines[1].contains("payload_not_object"))
            let letters = try #require(try await f.tagwave("dlq", "list", "--json").json() as? [[String: Any]])
            let id = try #require(letters.first?["id"] as? Int)
            #expect(
                (letters.first?["fields"] as? [[String: Any]])?.contains {
                    $0["value"] as? String == #"["teacherId","t7"]"#
                } == true)
            let shown = try await f.tagwave("dlq", "show", "\(id)")
            #expect(
                shown.output.contains(#"field payload  ["teacherId","t7"]"#) && shown.output.contains("dead-lettered  ")
            )

            let unfixed = try await f.tagwave("dlq", "retry", "\(id)")
            #expect(
                unfixed.status == 65 && unfixed.output.contains("still_failing")
                    && unfixed.output.contains("--payload"), "\(unfixed)")

            let stored = try await f.run([
                "cache", "set", "sessions:teacher:t7", #"["old"]"#, "--tag", "teacher:t7", "--redis-url", f.server.url,
            ])
            #expect(stored.status == 0)
            let fixed = try await f.tagwave(
                "dlq", "retry", "\(id)", "--payload", #"{"teacherId":"t7","schoolId":"s1"}"#)
            #expect(fixed.status == 0, "\(fixed)")
            #expect(
                fixed.output.contains(
                    "evt-bad  processed  recorded as processed: invalidated teacher:t7, school:s1:sessions"))
            #expect(try await f.run(["cache", "get", "sessions:teacher:t7", "--redis-url", f.server.url]).status == 1)

            let event = try #require(
                try await f.tagwave("events", "show", "evt-bad", "--json").json() as? [String: Any])
            let view = try #require(event["event"] as? [String: Any])
            #expect(
                view["status"] as? String == "processed" && (view["worker"] as? String)?.hasPrefix("auditor@") == true)
            #expect((event["deadLetters"] as? [[String: Any]])?.first?["status"] as? String == "retried")
            let retried = try #require(
                try await f.tagwave("dlq", "list", "--status", "retried", "--json").json() as? [[String: Any]])
            #expect(retried.count == 1 && (retried.first?["resolvedBy"] as? String)?.hasPrefix("auditor@") == true)
            #expect(try await f.tagwave("dlq", "list").errors.contains("no open dead letter"))

            let twice = try await f.tagwave("dlq", "retry", "\(id)")
            #expect(twice.status == 64 && twice.errors.contains("already retried"))
        }
    }

    @Test func purgeRefusesWithoutConfirmationWhenStdinIsNotATerminalAndPurgesWithYes() async throws {
        try await CLIFixture.with { f in
            try await f.publish([
                (nil, #"{"a":1}"#, nil), ("x.y", "nope", nil), ("session.created", #"{"schoolId":"s1"}"#, "no-teacher"),
            ])
            try await f.fillLedger(processed: 0, deadLetters: 3)
            let refused = try await f.tagwave("dlq", "purge", "--all")
            #expect(
                refused.status == 64 && refused.errors.contains("standard input is not a terminal; add --yes"),
                "\(refused)")
            #expect(try await f.withLedger { try await $0.deadLetterCounts().open } == 3)
            let unclear = try await f.tagwave("dlq", "purge", "1", "--all", "--yes")
            #expect(unclear.status == 64)

            let purged = try await f.tagwave("dlq", "purge", "--reason", "missing_type", "--yes")
            #expect(purged.status == 0 && purged.output == "purged 1 dead letter\n", "\(purged)")
            let all = try await f.tagwave("dlq", "purge", "--all", "--yes", "--json")
            #expect((try all.json() as? [String: Any])?["purged"] as? Int == 2)
            let counts = try await f.withLedger { try await $0.deadLetterCounts() }
            #expect(counts.open == 0 && counts.purged == 3)
            #expect(try await f.tagwave("dlq", "show", "999").status == 1)
        }
    }

    @Test func republishingHandsADeadLetterBackToTheWorkerPool() async throws {
        try await CLIFixture.with { f in
            try await f.publish([("session.created", #"{"schoolId":"s1"}"#, "no-teacher")])
            try await f.fillLedger(processed: 0, deadLetters: 1)
            let republished = try await f.tagwave(
                "dlq", "retry", "1", "--republish", "--payload", #"{"teacherId":"t5","schoolId":"s1"}"#)
            #expect(republished.status == 0 && republished.output.contains("republished"), "\(republished)")
            try await f.fillLedger(processed: 1)
            let event = try #require(
                try await f.tagwave("events", "show", "no-teacher", "--json").json() as? [String: Any])
            #expect((event["event"] as? [String: Any])?["worker"] as? String == "w1")
        }
    }
}
