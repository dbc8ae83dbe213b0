import Foundation
import TagwaveLedger
import TagwaveRedis
import TagwaveTestSupport
import Testing

@Suite("tagwave errors say what to do and exit with the documented codes")
struct ExitCodeTests {
    @Test func errorsNameTheProblemAndTheRemedyWithMeaningfulExitCodes() async throws {
        try await CLIFixture.with { f in
            // A ledger that does not exist is never created by a reading verb.
            let missing = f.directory.appendingPathComponent("typo.sqlite").path
            let noLedger = try await f.run(["events", "list", "--ledger", missing])
            #expect(noLedger.status == 69 && noLedger.errors.contains("no ledger at \(missing)"), "\(noLedger)")
            #expect(noLedger.errors.contains("tagwave migrate"))
            #expect(!FileManager.default.fileExists(atPath: missing))
            #expect(try await f.run(["replay", "--all", "--dry-run", "--ledger", missing]).status == 69)
            #expect(!FileManager.default.fileExists(atPath: missing))

            let migrated = try await f.run(["migrate", "--ledger", f.ledgerPath])
            #expect(migrated.status == 0, "\(migrated)")
            let unknown = try await f.tagwave("events", "show", "evt-404")
            #expect(
                unknown.status == 1 && unknown.errors.contains("no event evt-404")
                    && unknown.errors.contains("tagwave events list"))

            let unreachable = "redis://127.0.0.1:1/0"
            let offsets = try await f.tagwave("offsets", "--redis-url", unreachable)
            #expect(offsets.status == 69 && offsets.errors.contains("unreachable"), "\(offsets)")
            #expect(try await f.tagwave("stats", "--redis-url", unreachable).status == 69)
            #expect(try await f.tagwave("replay", "--all", "--redis-url", unreachable).status == 69)
            #expect(try await f.tagwave("dlq", "retry", "--all", "--redis-url", unreachable).status == 0)  // nothing open: nothing to connect for
            let health = try await f.tagwave("health", "--json", "--redis-url", unreachable)
            #expect(health.status == 2, "\(health)")
            let report = try #require(try health.json() as? [String: Any])
            #expect(
                report["overall"] as? String == "unhealthy"
                    && (report["redis"] as? [String: Any])?["connected"] as? Bool == false)
            #expect(
                ((report["reasons"] as? [[String: Any]])?.first?["message"] as? String)?.contains("unreachable") == true
            )

            let badTime = try await f.tagwave("events", "list", "--since", "yesterday")
            #expect(badTime.status == 65 && badTime.errors.contains("2024-05-01T12:00:00Z"))
            let badStatus = try await f.tagwave("events", "list", "--status", "done")
            #expect(badStatus.status == 65 && badStatus.errors.contains("processed, dead_lettered, lost, skipped"))
            let nothing = try await f.tagwave("replay")
            #expect(nothing.status == 64 && nothing.errors.contains("say what to replay"))
            let badThreshold = try await f.tagwave("health", "--threshold", "speed=1/2")
            #expect(badThreshold.status == 64 && badThreshold.errors.contains("unknown threshold speed"))
            let badConfig = try await f.run([
                "events", "list", "--config", f.directory.appendingPathComponent("none.yaml").path,
            ])
            #expect(badConfig.status == 78 && badConfig.errors.contains("cannot read the file"))

            let help = try await f.run(["replay", "--help"])
            #expect(help.status == 0 && help.output.contains("tagwave replay --since 2h --dry-run"))
            for verb in [
                ["events", "list"], ["events", "show"], ["events", "tail"], ["events", "export"], ["dlq", "list"],
                ["dlq", "show"],
                ["dlq", "retry"], ["dlq", "purge"], ["audit", "tag"], ["audit", "key"], ["audit", "event"], ["offsets"],
                ["stats"], ["health"],
            ] {
                let text = try await f.run(verb + ["--help"]).output
                #expect(
                    text.contains("Example: tagwave \(verb.joined(separator: " "))")
                        || text.contains("tagwave \(verb.joined(separator: " ")) "), "no example in \(verb) --help")
            }
        }
    }
}
