import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TagwaveLedger
import TagwaveOperations
import UnixSignals

/// `tagwave events list|show|tail|export`: the ledger's event history.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Inspect the events the workers recorded: list, show one, follow live, export.",
        subcommands: [List.self, Show.self, Tail.self, Export.self])

    /// The filters `list`, `tail` and `export` share.
    struct Filters: ParsableArguments {
        @Option(name: .customLong("type"), help: "Only events of this type (repeat for several).") var types: [String] =
            []
        @Option(help: "Only events from this producing service.") var source: String?
        @Option(help: "Only events that invalidated this tag.") var tag: String?
        @Option(help: "From this time: RFC 3339 (2024-05-01T12:00:00Z), a date, or a duration ago (15m, 2h, 7d).")
        var since: String?
        @Option(help: "Before this time (same forms as --since).") var until: String?
        @Option(help: "Only events with this status: processed, dead_lettered, lost, skipped.") var status: String?

        func query(limit: Int?) throws -> EventQuery {
            try EventQuery(
                types: types, source: source, since: since.map(TimeExpression.init),
                until: until.map(TimeExpression.init),
                status: status, tag: tag, limit: limit)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List events, newest first, with their status and the tags they invalidated.",
            discussion: """
                Example: tagwave events list --type session.created --since 2h --limit 20
                --json prints an array of events with their outcomes (the shape `events export --format jsonl` writes).
                Exit codes: 0 (also when nothing matches), 65 bad --since/--until/--status, 69 no ledger.
                """)
        @OptionGroup var options: OperationsOptions
        @OptionGroup var filters: Filters
        @Option(help: "At most this many events.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let query = try filters.query(limit: limit)
                let ledger = try await options.openLedger(try options.settings())
                let events = try await EventBrowser(ledger: ledger).list(query)
                await ledger.close()
                if json {
                    try printJSON(events.map { EventView($0, withOutcomes: true) })
                    return
                }
                guard !events.isEmpty else {
                    printError("no event matches in \(ledger.path)")
                    return
                }
                emit(
                    Table(
                        ["OCCURRED", "EVENT", "TYPE", "SOURCE", "STATUS", "WORKER", "TOOK", "REMOVED", "TAGS"],
                        events.map(Self.row)
                    ).rendered)
            }
        }

        static func row(_ record: LedgerSequencedEvent) -> [String] {
            let event = record.event
            return [
                event.occurredAt.description, event.eventID, event.type, event.source ?? "-", event.status.rawValue,
                event.worker,
                Cell.duration(event.duration), Cell.optional(event.entriesRemoved),
                Cell.list(EventView(record, withOutcomes: true).tags ?? []),
            ]
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one event: envelope, every handler outcome (live and replayed), tags, warm jobs, trace.",
            discussion: """
                Example: tagwave events show evt-42
                Exit codes: 0, 1 no such event (dead letters that never decoded are under `tagwave dlq list`), 69 no ledger.
                """)
        @OptionGroup var options: OperationsOptions
        @Argument(help: "The event id (the producer's id, else the stream entry id).") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await runningOperation {
                let ledger = try await options.openLedger(try options.settings())
                let detail = try await EventBrowser(ledger: ledger).show(id: id)
                await ledger.close()
                try EventsCommand.printDetail(detail, json: json)
            }
        }
    }

    /// `events show` and `audit event`.
    static func printDetail(_ detail: LedgerEventDetail, json: Bool) throws {
        if json {
            try printJSON(EventDetailView(detail))
            return
        }
        let event = detail.record.event
        var facts: [[String]] = [
            ["event", event.eventID],
            ["type", event.type],
            ["source", event.source ?? "-"],
            ["stream", "\(event.stream) entry \(event.streamID) (ledger seq \(detail.record.seq))"],
            ["occurred", event.occurredAt.description],
            ["received", event.receivedAt.description],
            ["processed", Cell.optional(event.processedAt)],
            ["status", "\(event.status.rawValue) after \(event.attempts) deliver\(event.attempts == 1 ? "y" : "ies")"],
            ["worker", event.worker],
            ["took", Cell.duration(event.duration)],
            ["entries removed", Cell.optional(event.entriesRemoved)],
            ["traceparent", event.traceparent ?? "-"],
            ["payload", event.payload],
        ]
        for (name, value) in event.metadata.sorted(by: { $0.key < $1.key }) {
            facts.append(["metadata \(name)", value])
        }
        if let error = event.error { facts.append(["error", error]) }
        emit(Table(["FIELD", "VALUE"], facts).rendered)
        emit("")
        emit("OUTCOMES (\(detail.record.outcomes.count))")
        if !detail.record.outcomes.isEmpty {
            emit(
                Table(
                    [
                        "HANDLER", "KIND", "STATUS", "ATTEMPTS", "REMOVED", "TOOK", "WORKER", "REPLAY", "FINISHED",
                        "TAGS",
                    ],
                    detail.record.outcomes.map {
                        [
                            $0.handler, $0.kind.rawValue, $0.status.rawValue, "\($0.attempts)",
                            Cell.optional($0.entriesRemoved), Cell.duration($0.duration),
                            $0.worker, $0.replayRunID.map { "run \($0)" } ?? "live", $0.finishedAt.description,
                            $0.invalidatedTags.isEmpty
                                ? ($0.error ?? "-")
                                : $0.invalidatedTags.map { tag in
                                    tag.tag + (tag.entriesRemoved.map { " (\($0))" } ?? "")
                                }.joined(separator: ", "),
                        ]
                    }
                ).rendered)
        }
        emit("")
        emit("WARM JOBS (\(detail.warmJobs.count))")
        if !detail.warmJobs.isEmpty {
            emit(
                Table(
                    ["TARGET", "STATUS", "HTTP", "ATTEMPTS", "TOOK", "WORKER", "SCHEDULED", "REPLAY"],
                    detail.warmJobs.map {
                        [
                            $0.target, $0.status.rawValue, Cell.optional($0.httpStatus), "\($0.attempts)",
                            Cell.duration($0.duration), $0.worker ?? "-",
                            $0.scheduledAt.description, $0.replayRunID.map { "run \($0)" } ?? "live",
                        ]
                    }
                ).rendered)
        }
        if !detail.deadLetters.isEmpty {
            emit("")
            emit("DEAD LETTERS OF THIS EVENT (\(detail.deadLetters.count))")
            emit(
                Table(
                    ["ID", "REASON", "STATUS", "RESOLVED BY", "DEAD-LETTERED"],
                    detail.deadLetters.map {
                        [
                            Cell.optional($0.id), $0.reasonCode, $0.status.rawValue, $0.resolvedBy ?? "-",
                            $0.deadLetteredAt.description,
                        ]
                    }
                ).rendered)
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Follow events as the workers record them, with the tags they invalidated; Ctrl-C stops (exit 0).",
            discussion: """
                Example: tagwave events tail --type session.created --last 5
                One line per event: occurred, id, type, status, worker, time taken, tags. --json prints JSON Lines.
                """)
        @OptionGroup var options: OperationsOptions
        @OptionGroup var filters: Filters
        @Option(help: "Show this many already-recorded events first.") var last = 10
        @Option(help: "Milliseconds between polls of the ledger when nothing is new.") var intervalMs = 250
        @Flag(help: "Print JSON Lines, one event per line.") var json = false

        func run() async throws {
            try await runningOperation {
                let query = try filters.query(limit: nil)
                let ledger = try await options.openLedger(try options.settings())
                let tail = EventBrowser(ledger: ledger).tail(
                    query, backlog: max(0, last), interval: .milliseconds(max(10, intervalMs)))
                let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await record in tail {
                            if json {
                                try printJSON(EventView(record, withOutcomes: true), compact: true)
                            } else {
                                emit(Self.line(record))
                            }
                        }
                    }
                    group.addTask {
                        for await _ in signals { return }
                    }
                    if !json { printError("following \(ledger.path); Ctrl-C to stop") }
                    try await group.next()
                    group.cancelAll()
                }
                await ledger.close()
            }
        }

        static func line(_ record: LedgerSequencedEvent) -> String {
            let event = record.event
            let view = EventView(record, withOutcomes: true)
            let replays = Set(record.outcomes.compactMap(\.replayRunID)).sorted().map { "replay \($0)" }
            return [
                event.occurredAt.description, event.eventID, event.type, event.status.rawValue, event.worker,
                Cell.duration(event.duration),
                "→ " + Cell.list(view.tags ?? [], limit: 8)
                    + (replays.isEmpty ? "" : " (\(replays.joined(separator: ", ")))"),
            ].joined(separator: "  ")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export events with their outcomes, oldest first, as JSON Lines or CSV, for auditors' tools.",
            discussion: """
                Example: tagwave events export --format csv --since 7d --tag teacher:123 --output teacher-123.csv
                CSV columns: \(EventExporter.csvColumns.joined(separator: ",")).
                JSON Lines: one event per line, as `events list --json` prints them. Same filters as `events list`.
                """)
        @OptionGroup var options: OperationsOptions
        @OptionGroup var filters: Filters
        @Option(help: "jsonl or csv.") var format: String = "jsonl"
        @Option(help: "Write to this file instead of standard output.") var output: String?
        @Option(help: "At most this many events.") var limit: Int?

        func run() async throws {
            try await runningOperation {
                guard let exportFormat = EventExportFormat(rawValue: format) else {
                    throw CommandError(
                        message: "--format \(format): use jsonl or csv", code: ExitCode.validationFailure)
                }
                let query = try filters.query(limit: limit)
                let ledger = try await options.openLedger(try options.settings())
                let exporter = EventExporter(ledger: ledger)
                let count: Int
                if let output {
                    guard FileManager.default.createFile(atPath: output, contents: nil),
                        let handle = FileHandle(forWritingAtPath: output)
                    else {
                        throw CommandError(
                            message: "cannot write \(output): check the directory exists and is writable",
                            code: ExitCodes.unavailable)
                    }
                    var buffer = Data()
                    count = try await exporter.export(query, format: exportFormat) { line in
                        buffer.append(contentsOf: line.utf8)
                        buffer.append(0x0A)
                        if buffer.count > 1 << 20 {
                            handle.write(buffer)
                            buffer.removeAll(keepingCapacity: true)
                        }
                    }
                    handle.write(buffer)
                    try handle.close()
                } else {
                    count = try await exporter.export(query, format: exportFormat) { Swift.print($0) }
                    fflush(nil)
                }
                await ledger.close()
                printError("exported \(count) event\(count == 1 ? "" : "s")\(output.map { " to \($0)" } ?? "")")
            }
        }
    }
}
