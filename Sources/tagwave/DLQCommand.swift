import ArgumentParser
import Foundation
import Logging
import TagwaveCache
import TagwaveConfig
import TagwaveEvents
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveWorker

/// `tagwave dlq list|show|retry|purge`: dead-letter triage.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Triage the dead-letter queue: list, show, retry (re-run now or re-publish), purge.",
        subcommands: [List.self, Show.self, Retry.self, Purge.self])

    /// One dead letter, a filter, or all open ones.
    struct Selection: ParsableArguments {
        @Argument(help: "The dead letter's id (as `tagwave dlq list` shows it).") var id: Int64?
        @Option(help: "Every open dead letter with this reason code, e.g. payload_not_object.") var reason: String?
        @Option(help: "Every open dead letter of this event type.") var type: String?
        @Flag(help: "Every open dead letter.") var all = false

        func selection() throws -> DeadLetterSelection {
            let filtered = reason != nil || type != nil
            switch (id, filtered, all) {
            case (let id?, false, false): return .id(id)
            case (nil, true, false): return .matching(reasonCode: reason, type: type)
            case (nil, false, true): return .all
            default:
                throw CommandError(
                    message: "name the dead letters one way: an ID, --reason/--type, or --all",
                    code: ExitCode.validationFailure)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters, newest first: why each one failed and how often it was tried.",
            discussion: """
                Example: tagwave dlq list --reason payload_not_object
                --status open (default), retried, purged or all.
                """)
        @OptionGroup var options: OperationsOptions
        @Option(help: "open, retried, purged or all.") var status = "open"
        @Option(help: "Only this reason code.") var reason: String?
        @Option(help: "Only this event type.") var type: String?
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let wanted: LedgerDeadLetter.Status?
                if status == "all" {
                    wanted = nil
                } else if let parsed = LedgerDeadLetter.Status(rawValue: status) {
                    wanted = parsed
                } else {
                    throw CommandError(
                        message: "--status \(status): use open, retried, purged or all",
                        code: ExitCode.validationFailure)
                }
                let settings = try options.settings()
                let deadLetters = try await options.withLedger(settings) { ledger in
                    try await ledger.deadLetters(
                        matching: LedgerDeadLetterFilter(status: wanted, reasonCode: reason, type: type, limit: limit))
                }
                if json {
                    try printJSON(deadLetters.map(DeadLetterView.init))
                    return
                }
                guard !deadLetters.isEmpty else {
                    printError("no \(status == "all" ? "" : status + " ")dead letter in \(settings.ledgerPath)")
                    return
                }
                emit(
                    Table(
                        ["ID", "DEAD-LETTERED", "EVENT", "TYPE", "REASON", "ATTEMPTS", "STATUS", "WHY"],
                        deadLetters.map {
                            [
                                Cell.optional($0.id), $0.deadLetteredAt.description, $0.eventID, $0.type ?? "-",
                                $0.reasonCode, "\($0.attempts)",
                                $0.status.rawValue, String($0.reason.prefix(100)),
                            ]
                        }
                    ).rendered)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one dead letter: the raw entry's fields, the reason, attempts, who resolved it.",
            discussion: "Example: tagwave dlq show 3\nExit codes: 0, 1 no such dead letter, 69 no ledger.")
        @OptionGroup var options: OperationsOptions
        @Argument(help: "The dead letter's id.") var id: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let settings = try options.settings()
                let deadLetter = try await options.withLedger(settings) { ledger in
                    try await DeadLetterDesk(
                        ledger: ledger, redis: nil, cache: nil, rules: [], operatorName: "",
                        logger: Logger(label: "tagwave.dlq")
                    )
                    .show(id: id)
                }
                if json {
                    try printJSON(DeadLetterView(deadLetter))
                    return
                }
                var facts: [[String]] = [
                    ["id", Cell.optional(deadLetter.id)],
                    ["event", deadLetter.eventID],
                    ["type", deadLetter.type ?? "-"],
                    ["stream", "\(deadLetter.stream) entry \(deadLetter.streamID)"],
                    ["reason", "\(deadLetter.reasonCode): \(deadLetter.reason)"],
                    ["attempts", "\(deadLetter.attempts)"],
                    ["first failed", Cell.optional(deadLetter.firstFailedAt)],
                    ["dead-lettered", "\(deadLetter.deadLetteredAt) by \(deadLetter.worker)"],
                    [
                        "status",
                        deadLetter.status.rawValue
                            + (deadLetter.resolvedBy.map { " by \($0) at \(Cell.optional(deadLetter.resolvedAt))" }
                                ?? ""),
                    ],
                ]
                for field in deadLetter.fields { facts.append(["field \(field.name)", field.value]) }
                emit(Table(["FIELD", "VALUE"], facts).rendered)
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Retry dead letters: re-run them now through the current rules (default), or --republish them to the stream.",
            discussion: """
                Examples:
                  tagwave dlq retry 3 --payload '{"teacherId":"t1","schoolId":"s1"}'   fix a producer's bad payload and handle it
                  tagwave dlq retry --reason delivery_limit                           after fixing the handler
                  tagwave dlq retry --all --republish                                 hand them all back to the worker pool
                A re-run decodes the entry as it was received (with the replacement payload, for one ID), invalidates what \
                the rules name, records the event as processed (worker: you) and marks the dead letter retried. One that \
                still fails stays open and is reported.
                Exit codes: 0 all retried, 65 some still fail, 1 unknown ID, 64 ID already resolved or selection unclear, 69 Redis \
                or the ledger unavailable.
                """)
        @OptionGroup var options: OperationsOptions
        @OptionGroup var selection: Selection
        @Flag(help: "Append the entries to their stream again instead of handling them here.") var republish = false
        @Option(help: "A replacement payload (a JSON object) for the one dead letter named by ID.") var payload: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let chosen = try selection.selection()
                let settings = try options.settings()
                let results = try await options.withLedger(settings) { ledger in
                    // Check the selection before connecting: an unknown or resolved id needs no Redis to be reported.
                    let probe = DeadLetterDesk(
                        ledger: ledger, redis: nil, cache: nil, rules: [], operatorName: "",
                        logger: Logger(label: "tagwave.dlq"))
                    guard try await !probe.select(chosen).isEmpty else { return [DeadLetterRetryResult]() }
                    return try await options.withRedis(settings) { redis in
                        // A re-run warms what the rules name, as the worker would.
                        let warms = !republish && settings.rules.contains { !$0.templates.urls.isEmpty }
                        let warming =
                            warms
                            ? try await WarmingService.start(redis: redis, ledger: ledger, settings: settings) : nil
                        let desk = DeadLetterDesk(
                            ledger: ledger, redis: redis,
                            cache: TaggedCache(
                                redis: redis, configuration: settings.cache, logger: Logger(label: "tagwave.dlq")),
                            rules: settings.rules, warmer: warming?.warmer, operatorName: OperatorIdentity.current(),
                            maxPayloadBytes: settings.worker.maxPayloadBytes, logger: Logger(label: "tagwave.dlq"))
                        do {
                            let results = try await desk.retry(
                                chosen, mode: republish ? .republish : .rerun, payload: payload)
                            await warming?.finish(control: ReplayControl())
                            return results
                        } catch {
                            await warming?.finish(control: ReplayControl())
                            throw error
                        }
                    }
                }
                if json {
                    try printJSON(results)
                } else if results.isEmpty {
                    printError("no open dead letter matches: nothing to retry")
                } else {
                    emit(
                        Table(
                            ["ID", "EVENT", "RESULT", "DETAIL"],
                            results.map { ["\($0.id)", $0.eventID, $0.outcome.rawValue, $0.detail] }
                        ).rendered)
                }
                let failing = results.filter { $0.outcome == .stillFailing }.count
                if failing > 0 {
                    throw CommandError(
                        message: "\(failing) of \(results.count) still fail and stay open", code: ExitCodes.dataError)
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Purge dead letters (marked purged, kept for the audit): asks for confirmation unless --yes.",
            discussion: """
                Example: tagwave dlq purge --reason payload_not_object --yes
                Without --yes it asks on the terminal, and refuses (exit 64) when standard input is not one.
                """)
        @OptionGroup var options: OperationsOptions
        @OptionGroup var selection: Selection
        @Flag(help: "Do not ask for confirmation.") var yes = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let chosen = try selection.selection()
                let settings = try options.settings()
                let purged = try await options.withLedger(settings) { ledger in
                    let desk = DeadLetterDesk(
                        ledger: ledger, redis: nil, cache: nil, rules: [], operatorName: OperatorIdentity.current(),
                        logger: Logger(label: "tagwave.dlq"))
                    let candidates = try await desk.select(chosen)
                    guard !candidates.isEmpty else { return 0 }
                    if !yes {
                        guard isTerminal(0) else {
                            throw CommandError(
                                message:
                                    "refusing to purge \(candidates.count) dead letter(s) without confirmation: standard input is not a terminal; add --yes",
                                code: ExitCode.validationFailure)
                        }
                        FileHandle.standardError.write(
                            Data(
                                "purge \(candidates.count) dead letter(s) (\(Set(candidates.map(\.reasonCode)).sorted().joined(separator: ", ")))? [y/N] "
                                    .utf8))
                        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
                        guard answer == "y" || answer == "yes" else {
                            printError("nothing purged")
                            return 0
                        }
                    }
                    return try await desk.purge(chosen)
                }
                if json {
                    struct Purged: Encodable { let purged: Int }
                    try printJSON(Purged(purged: purged))
                } else {
                    emit("purged \(purged) dead letter\(purged == 1 ? "" : "s")")
                }
            }
        }
    }
}
