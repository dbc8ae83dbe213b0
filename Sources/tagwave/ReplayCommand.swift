import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TagwaveCache
import TagwaveConfig
import TagwaveEvents
import TagwaveLedger
import TagwaveOperations
import TagwaveRedis
import TagwaveWarmer
import TagwaveWorker
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

/// `tagwave replay`: re-run recorded events through the current rules.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract:
            "Replay recorded events through the current rules: by time, stream id range, type or one event; --dry-run first.",
        discussion: """
            Examples:
              tagwave replay --since 2h --dry-run                 what would be invalidated and warmed; Redis untouched
              tagwave replay --since 2h                           do it (a progress bar with rate and ETA on a terminal,
                                                                  progress lines on standard error otherwise)
              tagwave replay --from-id 1714557600000-0 --to-id 1714561200000-0 --type session.created
              tagwave replay --id evt-42 --only warm              re-warm one event's targets without invalidating again
              tagwave replay --resume 7                           continue run 7 after Ctrl-C or a failure
              tagwave replay --list                               the runs, with their status and position
            A replay runs in recording order, a batch at a time: it invalidates the batch's tags in one call, records \
            the outcomes with the run's id, then the run's position. Ctrl-C finishes the batch in hand and stops; \
            running the same command again (or --resume RUN) continues after the last finished event. Invalidation is \
            idempotent, so replaying is safe. Warm targets are handed to a warmer when this build has one; otherwise \
            they are recorded as skipped outcomes naming the targets.
            Exit codes: 0 done, 130 interrupted (resumable), 1 unknown --id or run, 64 nothing selected, 65 bad time or \
            id, 69 Redis or the ledger unavailable (a failed run is resumable), 78 bad configuration.
            """)

    @OptionGroup var options: OperationsOptions
    @Option(help: "Events that occurred from this time: RFC 3339, a date, or a duration ago (2h, 30m).") var since:
        String?
    @Option(help: "Events that occurred before this time (same forms).") var until: String?
    @Option(name: .customLong("from-id"), help: "Events from this stream entry id (inclusive), e.g. 1714557600000-0.")
    var fromID: String?
    @Option(name: .customLong("to-id"), help: "Events up to this stream entry id (inclusive).") var toID: String?
    @Option(name: .customLong("type"), help: "Only events of this type (repeat for several).") var types: [String] = []
    @Option(help: "Only this event.") var id: String?
    @Flag(help: "Every event in the ledger.") var all = false
    @Option(help: "Only this kind of work: invalidate or warm.") var only: String?
    @Flag(
        name: .customLong("dry-run"), help: "Print what each event would invalidate and warm; touch nothing in Redis.")
    var dryRun = false
    @Option(help: "Continue replay run RUN (interrupted or failed) after its last finished event.") var resume: Int64?
    @Flag(help: "List recent replay runs and exit.") var list = false
    @Option(help: "Events per batch (one invalidation call and one ledger transaction each).") var batchSize = 200
    @Option(help: "At most this many events per second, to spare a production Redis (default: as fast as it goes).")
    var rate: Double?
    @Flag(help: "Print JSON (progress goes to standard error).") var json = false

    func run() async throws {
        try await runningOperation {
            let settings = try options.settings()
            try await options.withLedger(settings) { ledger in try await replay(ledger, settings: settings) }
        }
    }

    private func replay(_ ledger: Ledger, settings: TagwaveConfiguration) async throws {
        if list {
            try await printRuns(ledger)
            return
        }
        var work: ReplayWork?
        if let only {
            guard let parsed = ReplayWork(rawValue: only) else {
                throw CommandError(message: "--only \(only): use invalidate or warm", code: ExitCode.validationFailure)
            }
            work = parsed
        }
        let request: ReplayRequest? =
            resume == nil
            ? try ReplayRequest(
                since: since.map(TimeExpression.init), until: until.map(TimeExpression.init), fromStreamID: fromID,
                toStreamID: toID,
                types: types, eventID: id, everything: all, only: work, dryRun: dryRun)
            : nil
        if let id, request != nil {
            // A single event that is not in the ledger is an operator's typo: say so (exit 1).
            _ = try await EventBrowser(ledger: ledger).show(id: id)
        }
        // A dry run never connects to Redis; a real replay invalidates there, and its warmer claims targets there.
        let needsRedis = !(request?.dryRun ?? false)
        let redis = needsRedis ? try await options.connectRedis(settings) : nil
        let cache = redis.map {
            TaggedCache(redis: $0, configuration: settings.cache, logger: Logger(label: "tagwave.replay"))
        }
        // The rules' warm targets go to a warmer of this process, as in the worker (delayed, coalesced across the
        // pool, rate limited, recorded in warm_jobs); the replay waits for its jobs before it exits.
        let warms = work != .invalidate && settings.rules.contains { !$0.templates.urls.isEmpty }
        var warming: WarmingService?
        if let redis, warms {
            warming = try await WarmingService.start(redis: redis, ledger: ledger, settings: settings)
        }
        let replayer = Replayer(
            ledger: ledger, cache: cache, rules: settings.rules, warmer: warming?.warmer, batchSize: batchSize,
            maxEventsPerSecond: rate,
            operatorName: OperatorIdentity.current(), handlerName: settings.worker.ruleHandlerName,
            logger: Logger(label: "tagwave.replay"))
        let control = ReplayControl()
        let reporter = ProgressReporter(toTerminal: isTerminal(1) && !json)
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let watcher = Task {
            var count = 0
            for await _ in signals {
                count += 1
                control.stop()
                reporter.interrupting()
                if count >= 2 { Glibc.exit(130) }
            }
        }
        defer { watcher.cancel() }
        let summary: ReplaySummary
        if let resume {
            summary = try await replayer.resume(runID: resume, control: control) { reporter.report($0) }
        } else if let request {
            summary = try await replayer.run(request, control: control) { reporter.report($0) }
        } else {
            throw CommandError(message: "nothing to replay", code: ExitCode.validationFailure)
        }
        reporter.finish()
        if let warming { await warming.finish(control: control) }
        await redis?.shutdown()
        try printSummary(summary)
        if summary.interrupted { throw ExitCode(130) }
    }

    static func count(_ number: Int, _ one: String, _ many: String? = nil) -> String {
        "\(number) " + (number == 1 ? one : many ?? one + "s")
    }

    private func printRuns(_ ledger: Ledger) async throws {
        let runs = try await ledger.replayRuns(limit: 20)
        if json {
            try printJSON(runs.map(ReplayRunView.init))
            return
        }
        guard !runs.isEmpty else {
            printError("no replay run in \(ledger.path) yet")
            return
        }
        emit(
            Table(
                ["RUN", "STATUS", "DRY", "ONLY", "DONE", "TOTAL", "LAST SEQ", "STARTED", "BY", "REQUEST"],
                runs.map {
                    [
                        "\($0.id)", $0.status.rawValue, $0.dryRun ? "yes" : "no",
                        $0.only?.joined(separator: ",") ?? "all", "\($0.eventsDone)",
                        Cell.optional($0.eventsTotal), Cell.optional($0.lastEventSeq), $0.startedAt.description,
                        $0.operatorName ?? "-", $0.request,
                    ]
                }
            ).rendered)
    }

    private func printSummary(_ summary: ReplaySummary) throws {
        if json {
            try printJSON(summary)
            return
        }
        let run = summary.run
        if run.dryRun {
            if !summary.plan.isEmpty {
                emit(
                    Table(
                        ["SEQ", "EVENT", "TYPE", "OCCURRED", "WOULD INVALIDATE", "WOULD WARM"],
                        summary.plan.map {
                            [
                                "\($0.seq)", $0.eventID, $0.type, $0.occurredAt,
                                $0.error
                                    ?? ($0.matched ? Cell.list($0.invalidate, limit: 6) : "(no rule for this type)"),
                                Cell.list($0.warm, limit: 3),
                            ]
                        }
                    ).rendered)
            }
            let warm = summary.plan.reduce(0) { $0 + $1.warm.count }
            emit(
                "dry run \(run.id): \(summary.eventsReplayed) event\(summary.eventsReplayed == 1 ? "" : "s") would invalidate "
                    + "\(summary.tagsInvalidated) distinct tag\(summary.tagsInvalidated == 1 ? "" : "s") and warm \(warm) target\(warm == 1 ? "" : "s")"
                    + (summary.eventsWithoutRule > 0 ? "; \(summary.eventsWithoutRule) without a rule" : "")
                    + (summary.failures > 0 ? "; \(summary.failures) cannot be rendered" : "")
                    + "; nothing was changed in Redis")
            return
        }
        var line =
            "replay \(run.id) \(summary.interrupted ? "interrupted" : "completed")\(summary.resumed ? " (resumed)" : ""): "
            + "\(run.eventsDone)/\(run.eventsTotal ?? run.eventsDone) events"
            + ", \(summary.eventsReplayed) now: \(Self.count(summary.tagsInvalidated, "tag")) invalidated, "
            + "\(Self.count(summary.entriesRemoved, "cache entry", "cache entries")) removed"
        if summary.warmScheduled > 0 { line += ", \(summary.warmScheduled) warm targets scheduled" }
        if summary.warmSkipped > 0 { line += ", \(summary.warmSkipped) warm targets skipped (no warmer in this build)" }
        if summary.eventsWithoutRule > 0 { line += ", \(summary.eventsWithoutRule) without a rule" }
        if summary.failures > 0 { line += ", \(summary.failures) failed (see `tagwave events show`)" }
        emit(line)
        if summary.interrupted {
            printError(
                "stopped after event seq \(run.lastEventSeq ?? 0); continue with: tagwave replay --resume \(run.id) (or the same command again)"
            )
        }
    }
}

/// The warmer a replay hands its warm targets to, run as a service of its own for the replay's duration.
struct WarmingService {
    let warmer: Warmer
    let group: ServiceGroup
    let running: Task<Void, any Error>

    static func start(redis: any RedisCommanding, ledger: Ledger, settings: TagwaveConfiguration) async throws -> WarmingService
    {
        let logger = Logger(label: "tagwave.warmer")
        let warmer = Warmer(redis: redis, ledger: ledger, configuration: WarmerConfiguration(settings), logger: logger)
        let group = ServiceGroup(
            services: [warmer], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return WarmingService(warmer: warmer, group: group, running: Task { try await group.run() })
    }

    /// Waits for the scheduled jobs (unless the replay was stopped), then stops the warmer, which records
    /// what is left, and says how the jobs ended.
    func finish(control: ReplayControl) async {
        if warmer.metrics.pending > 0 {
            printError("waiting for \(warmer.metrics.pending) warm job(s)…")
        }
        while warmer.metrics.pending > 0 && !control.isStopped {
            try? await Task.sleep(for: .milliseconds(50))
        }
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        let metrics = warmer.metrics
        if metrics.scheduled > 0 {
            printError(
                "warm targets: \(metrics.succeeded) warmed, \(metrics.failed) failed, \(metrics.coalesced) coalesced, "
                    + "\(metrics.skipped + metrics.dropped) skipped (`tagwave events show ID` lists each event's warm jobs)"
            )
        }
    }
}

/// Replay progress: a bar with rate and ETA redrawn in place when standard output is a terminal;
/// otherwise plain lines on standard error (at most one a second), so that standard output stays the
/// result alone, for pipes and `--json`.
final class ProgressReporter: Sendable {
    private let toTerminal: Bool
    private let lastLine = Mutex<ContinuousClock.Instant?>(nil)

    init(toTerminal: Bool) {
        self.toTerminal = toTerminal
    }

    func report(_ progress: ReplayProgress) {
        let percent = Int(progress.fraction * 100)
        let figures =
            "\(progress.done)/\(progress.total) events, \(Cell.rate(progress.rate)), ETA \(Self.eta(progress.eta))"
        if toTerminal {
            let width = 30
            let filled = Int(progress.fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            write("\r\u{1B}[K replay \(progress.runID) \(bar) \(percent)%  \(figures)", newline: false)
            return
        }
        // Plain lines: at most one per second, and the last.
        let now = ContinuousClock.now
        let due = lastLine.withLock { last -> Bool in
            guard progress.done < progress.total, let last, now - last < .seconds(1) else {
                last = now
                return true
            }
            return false
        }
        if due { write("replay \(progress.runID): \(percent)% \(figures)", newline: true) }
    }

    func interrupting() {
        write(
            (toTerminal ? "\n" : "")
                + "interrupt: finishing the batch in hand, then stopping (Ctrl-C again to quit at once)", newline: true,
            error: true)
    }

    func finish() {
        if toTerminal { write("", newline: true) }
    }

    private func write(_ text: String, newline: Bool, error: Bool = false) {
        let data = Data((text + (newline ? "\n" : "")).utf8)
        if error || !toTerminal {
            FileHandle.standardError.write(data)
        } else {
            fflush(nil)
            FileHandle.standardOutput.write(data)
        }
    }

    static func eta(_ eta: Duration?) -> String {
        guard let eta else { return "-" }
        let (whole, fraction) = eta.components
        let seconds = whole + (fraction > 0 ? 1 : 0)  // round up: "0s" only when done
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60)s" }
        return "\(seconds / 3600)h\((seconds % 3600) / 60)m"
    }
}
