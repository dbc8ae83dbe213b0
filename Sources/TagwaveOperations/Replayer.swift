import Logging
import TagwaveCache
import TagwaveLedger
import TagwaveWorker

/// Replays recorded events through the current rules (`tagwave replay`): invalidates their tags and
/// warms their targets again, idempotently, recording each event's replayed outcomes with the run's
/// id, so that an interrupted replay resumes where it stopped.
///
/// Events go in recording order, a batch at a time: the batch's distinct tags are invalidated in
/// one call, then its outcomes are recorded in one ledger transaction, then the run's position.
/// A stop (``ReplayControl/stop()``) takes effect between batches. Re-running a finished event is
/// harmless (invalidation is idempotent), and a resumed run skips the events its last batch had
/// already recorded.
///
/// ```swift
/// let replayer = Replayer(ledger: ledger, cache: cache, rules: settings.rules, operatorName: "ops@host", logger: logger)
/// let summary = try await replayer.run(try ReplayRequest(since: TimeExpression("2h")), control: ReplayControl())
/// ```
public struct Replayer: Sendable {
    let ledger: Ledger
    let cache: TaggedCache?
    let planner: RulePlanner
    let warmer: (any WarmScheduling)?
    let batchSize: Int
    let maxEventsPerSecond: Double?
    let operatorName: String
    let handlerName: String
    let logger: Logger

    /// A replayer.
    ///
    /// - Parameters:
    ///   - ledger: the ledger whose events are replayed and where the run is recorded.
    ///   - cache: the tagged cache to invalidate; nil when only dry runs or warm-only replays are made.
    ///   - rules: the current rules (from the configuration file).
    ///   - warmer: where warm targets go; nil records them as skipped, with the reason.
    ///   - batchSize: events per batch (one invalidation call and one ledger transaction each).
    ///   - maxEventsPerSecond: a pace not to exceed, to spare a production Redis; nil for full speed.
    ///   - operatorName: who replays (`user@host`): the run's operator and the outcomes' worker.
    ///   - handlerName: the outcomes' handler name; the worker's default is `rules`.
    ///   - logger: where it logs.
    public init(
        ledger: Ledger, cache: TaggedCache?, rules: [InvalidationRule], warmer: (any WarmScheduling)? = nil,
        batchSize: Int = 200,
        maxEventsPerSecond: Double? = nil, operatorName: String, handlerName: String = "rules", logger: Logger
    ) {
        self.ledger = ledger
        self.cache = cache
        self.planner = RulePlanner(rules: rules)
        self.warmer = warmer
        self.batchSize = max(1, batchSize)
        self.maxEventsPerSecond = maxEventsPerSecond.flatMap { $0 > 0 ? $0 : nil }
        self.operatorName = operatorName
        self.handlerName = handlerName
        self.logger = logger
    }

    /// Runs `request`; a real replay asked for exactly as an interrupted or failed one continues it.
    ///
    /// - Parameters:
    ///   - request: what to replay.
    ///   - control: stops it between batches.
    ///   - progress: called after each batch.
    /// - Returns: how it ended (``ReplaySummary/interrupted`` when stopped).
    /// - Throws: ``OperationsError``; `RedisError`/`CacheError` when Redis fails (the run is then
    ///   recorded as failed and can be resumed); ``LedgerError``.
    public func run(
        _ request: ReplayRequest, control: ReplayControl = ReplayControl(),
        progress: @Sendable (ReplayProgress) -> Void = { _ in }
    ) async throws -> ReplaySummary {
        if !request.dryRun,
            let unfinished = try await ledger.unfinishedReplayRun(request: request.canonical, only: request.onlyNames)
        {
            logger.info("continuing replay run \(unfinished.id) after event seq \(unfinished.lastEventSeq ?? 0)")
            return try await resume(runID: unfinished.id, control: control, progress: progress)
        }
        try requireCache(for: request.only, dryRun: request.dryRun)
        let now = LedgerTimestamp.now()
        let selection = request.selection(now: now, throughSeq: try await ledger.latestSeq())
        let total = try await ledger.countEvents(matching: selection)
        let run = try await ledger.startReplayRun(
            request: request.canonical, selection: selection, dryRun: request.dryRun, only: request.onlyNames,
            operatorName: operatorName, eventsTotal: total, at: now)
        return try await execute(run, only: request.only, resumed: false, control: control, progress: progress)
    }

    /// Continues run `runID` after its last finished event, with the same range and the current rules.
    ///
    /// - Throws: ``OperationsError``: `notFound` for an unknown run, `usage` for a completed run or a
    ///   dry run; what ``run(_:control:progress:)`` throws.
    public func resume(
        runID: Int64, control: ReplayControl = ReplayControl(), progress: @Sendable (ReplayProgress) -> Void = { _ in }
    ) async throws -> ReplaySummary {
        guard let existing = try await ledger.replayRun(id: runID) else {
            throw OperationsError(
                .notFound, "no replay run \(runID) in \(ledger.path): `tagwave replay --list` shows the runs")
        }
        guard !existing.dryRun else {
            throw OperationsError(
                .usage,
                "replay run \(runID) was a dry run: there is nothing to resume; run the replay without --dry-run")
        }
        guard existing.status != .completed else {
            throw OperationsError(
                .usage,
                "replay run \(runID) is completed (\(existing.eventsDone) events): nothing to resume; start a new replay to replay again"
            )
        }
        let only =
            try existing.only.map { names -> ReplayWork? in
                guard let first = names.first else { return nil }
                guard let work = ReplayWork(rawValue: first) else {
                    throw OperationsError(
                        .usage, "replay run \(runID) was limited to \(names), which this version cannot replay")
                }
                return work
            } ?? nil
        try requireCache(for: only, dryRun: false)
        guard let run = try await ledger.reopenReplayRun(id: runID) else {
            throw OperationsError(.notFound, "replay run \(runID) vanished from \(ledger.path)")
        }
        return try await execute(run, only: only, resumed: true, control: control, progress: progress)
    }

    private func requireCache(for only: ReplayWork?, dryRun: Bool) throws {
        guard !dryRun, only != .warm, cache == nil else { return }
        throw OperationsError(
            .unavailable, "a replay that invalidates needs Redis: configure it (--config, REDIS_URL) or use --dry-run")
    }

    // MARK: Batches

    private struct Totals {
        var replayed = 0
        var withoutRule = 0
        var tags = Set<String>()
        var entriesRemoved = 0
        var warmScheduled = 0
        var warmSkipped = 0
        var failures = 0
        var plan: [ReplayPlanItem] = []
    }

    private func execute(
        _ run: LedgerReplayRun, only: ReplayWork?, resumed: Bool, control: ReplayControl,
        progress: (ReplayProgress) -> Void
    ) async throws -> ReplaySummary {
        let started = ContinuousClock.now
        let total = run.eventsTotal ?? 0
        var done = run.eventsDone
        var position = run.lastEventSeq
        var totals = Totals()
        var firstBatch = true
        var interrupted = false
        do {
            while true {
                var selection = run.selection
                selection.afterSeq = position
                var page = try await ledger.events(matching: selection, order: .recording, limit: batchSize)
                guard let last = page.last else { break }
                if control.isStopped {
                    interrupted = true  // events are left: resumable
                    break
                }
                if firstBatch && resumed {
                    // The batch recorded just before the process stopped may not have moved the position.
                    let already = try await ledger.eventsReplayed(byRun: run.id, among: page.map(\.seq))
                    done += already.count
                    page.removeAll { already.contains($0.seq) }
                }
                firstBatch = false
                if run.dryRun {
                    plan(page, into: &totals)
                } else {
                    try await replay(page, runID: run.id, only: only, into: &totals)
                }
                done += page.count
                totals.replayed += page.count
                position = last.seq
                try await ledger.updateReplayRun(id: run.id, eventsDone: done, lastEventSeq: position)
                if let maxEventsPerSecond {
                    // Keep the pace, in short naps, so that a stop is heard at once.
                    let due = started + .milliseconds(Int64(Double(totals.replayed) / maxEventsPerSecond * 1000))
                    while !control.isStopped && ContinuousClock.now < due && !Task.isCancelled {
                        try? await Task.sleep(for: min(.milliseconds(50), due - ContinuousClock.now))
                    }
                }
                let elapsed = ContinuousClock.now - started
                let rate = Self.seconds(elapsed) > 0 ? Double(totals.replayed) / Self.seconds(elapsed) : 0
                progress(
                    ReplayProgress(
                        runID: run.id, done: done, total: max(total, done), doneNow: totals.replayed, elapsed: elapsed,
                        rate: rate,
                        eta: rate > 0 ? .milliseconds(Int64(Double(max(0, total - done)) / rate * 1000)) : nil,
                        lastEventSeq: position))
            }
        } catch {
            try? await ledger.finishReplayRun(id: run.id, status: .failed, error: "\(error)")
            logger.error("replay run \(run.id) failed after event seq \(position ?? 0): \(error)")
            throw error
        }
        if interrupted {
            try await ledger.finishReplayRun(
                id: run.id, status: .interrupted, error: "interrupted by the operator after event seq \(position ?? 0)")
        } else {
            try await ledger.finishReplayRun(id: run.id, status: .completed)
        }
        let finished = try await ledger.replayRun(id: run.id) ?? run
        return ReplaySummary(
            run: ReplayRunView(finished), resumed: resumed, eventsReplayed: totals.replayed,
            eventsWithoutRule: totals.withoutRule,
            tagsInvalidated: totals.tags.count, entriesRemoved: totals.entriesRemoved,
            warmScheduled: totals.warmScheduled,
            warmSkipped: totals.warmSkipped, failures: totals.failures, interrupted: interrupted, plan: totals.plan)
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func plan(_ page: [LedgerSequencedEvent], into totals: inout Totals) {
        for record in page {
            let plan = planner.plan(type: record.event.type, payload: Array(record.event.payload.utf8))
            if !plan.matched { totals.withoutRule += 1 }
            if plan.error != nil { totals.failures += 1 }
            totals.tags.formUnion(plan.tags)
            totals.plan.append(
                ReplayPlanItem(
                    seq: record.seq, eventID: record.event.eventID, type: record.event.type,
                    occurredAt: record.event.occurredAt.description, invalidate: plan.tags, warm: plan.warm,
                    matched: plan.matched,
                    error: plan.error))
        }
    }

    private func replay(_ page: [LedgerSequencedEvent], runID: Int64, only: ReplayWork?, into totals: inout Totals)
        async throws
    {
        let invalidating = only != .warm
        let warming = only != .invalidate
        let plans = page.map { planner.plan(type: $0.event.type, payload: Array($0.event.payload.utf8)) }
        var seen = Set<String>()
        let tags = invalidating ? plans.flatMap(\.tags).filter { seen.insert($0).inserted } : []
        let startedAt = LedgerTimestamp.now()
        let clock = ContinuousClock.now
        var entriesByTag: [String: Int] = [:]
        if !tags.isEmpty, let cache {
            let result = try await cache.invalidate(tags: tags)
            for tag in result.tags { entriesByTag[tag.tag] = Int(tag.entries) }
            totals.entriesRemoved += Int(result.entries)
            totals.tags.formUnion(tags)
        }
        let took = ContinuousClock.now - clock
        let finishedAt = LedgerTimestamp.now()
        var records: [LedgerEventRecord] = []
        for (record, plan) in zip(page, plans) {
            guard plan.matched else {
                totals.withoutRule += 1
                continue
            }
            var outcomes: [LedgerHandlerOutcome] = []
            if let error = plan.error {
                totals.failures += 1
                outcomes.append(
                    outcome(
                        .invalidate, .failed, error: error, runID: runID, startedAt: startedAt, finishedAt: finishedAt))
            }
            if invalidating && !plan.tags.isEmpty {
                let removed = plan.tags.reduce(0) { $0 + (entriesByTag[$1] ?? 0) }
                var invalidation = outcome(
                    .invalidate, .succeeded, runID: runID, startedAt: startedAt, finishedAt: finishedAt)
                invalidation.entriesRemoved = removed
                invalidation.duration = took
                invalidation.invalidatedTags = plan.tags.map {
                    LedgerTagInvalidation(tag: $0, entriesRemoved: entriesByTag[$0])
                }
                outcomes.append(invalidation)
            }
            if warming && !plan.warm.isEmpty {
                if let warmer {
                    await warmer.schedule(targets: plan.warm, eventID: record.event.eventID)
                    totals.warmScheduled += plan.warm.count
                    outcomes.append(outcome(.warm, .succeeded, runID: runID, startedAt: startedAt, finishedAt: .now()))
                } else {
                    totals.warmSkipped += plan.warm.count
                    outcomes.append(
                        outcome(
                            .warm, .skipped,
                            error: "not warmed: no warmer is available to tagwave replay in this build; targets: "
                                + plan.warm.joined(separator: " "),
                            runID: runID, startedAt: startedAt, finishedAt: finishedAt))
                }
            }
            if !outcomes.isEmpty {
                records.append(LedgerEventRecord(event: record.event, outcomes: outcomes))
            }
        }
        if !records.isEmpty {
            _ = try await ledger.record(LedgerBatch(events: records))
        }
    }

    private func outcome(
        _ kind: LedgerHandlerOutcome.Kind, _ status: LedgerHandlerOutcome.Status, error: String? = nil, runID: Int64,
        startedAt: LedgerTimestamp, finishedAt: LedgerTimestamp
    ) -> LedgerHandlerOutcome {
        LedgerHandlerOutcome(
            handler: handlerName, kind: kind, status: status, worker: operatorName, error: error, startedAt: startedAt,
            finishedAt: finishedAt, replayRunID: runID)
    }
}
