import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TagwaveCache
import TagwaveHealth
import TagwaveLedger
import TagwaveMetrics
import TagwaveWorker

/// Samples the worker, Redis and the ledger on an interval: the dashboard's history, the latest
/// health sample (the trend `/health` compares with), and the Prometheus series.
///
/// Counters come from the worker's own counters (exact). The handler-duration and invalidation-lag
/// histograms are observed from the ledger: each event this worker committed since the previous
/// sample, among those that occurred in the last five minutes, at most 1,000 per sample (above
/// that rate they are a sample of the events). Batch sizes spread each interval's events evenly
/// over its batches, so the histogram's sum and count are exact.
final class AdminMonitor: Sendable {
    let probe: HealthProbe
    let evaluator: HealthEvaluator
    let worker: Worker?
    let cache: TaggedCache?
    let ledger: Ledger
    let metrics: WorkerMetrics
    let warmJobs: (@Sendable () -> AdminStats.WarmJobs)?
    let interval: Duration
    let historyLength: Int
    let stream: String
    let group: String
    let started = Date()
    let logger: Logger
    private let state = Mutex(State())

    struct State {
        var history: [AdminStats.Point] = []
        var sample: HealthSample?
        var report: HealthReport?
        var progress: WorkerProgress?
        var progressAt: ContinuousClock.Instant?
        var warm: AdminStats.WarmJobs?
        /// The newest `processedAt` observed into the histograms, and the events observed at that millisecond.
        var observedUntil: Int64 = 0
        var observedAtEdge: Set<String> = []
    }

    init(
        probe: HealthProbe, evaluator: HealthEvaluator, worker: Worker?, cache: TaggedCache?, ledger: Ledger,
        metrics: WorkerMetrics, warmJobs: (@Sendable () -> AdminStats.WarmJobs)?, interval: Duration,
        historyLength: Int,
        stream: String, group: String, logger: Logger
    ) {
        self.probe = probe
        self.evaluator = evaluator
        self.worker = worker
        self.cache = cache
        self.ledger = ledger
        self.metrics = metrics
        self.warmJobs = warmJobs
        self.interval = interval
        self.historyLength = max(2, historyLength)
        self.stream = stream
        self.group = group
        self.logger = logger
        state.withLock { $0.observedUntil = LedgerTimestamp.now().millisecondsSinceEpoch }
    }

    /// Samples until graceful shutdown or cancellation.
    func run() async {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sampleOnce()
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }

    /// The latest sample, for `/health`'s trend comparison.
    var latestSample: HealthSample? { state.withLock { $0.sample } }

    /// Takes one sample and records it everywhere.
    func sampleOnce() async {
        let sample = await probe.sample()
        let now = ContinuousClock.now
        let progress = worker?.progress
        let warm = warmJobs?()
        await observeLedger()
        state.withLock { state in
            let report = evaluator.evaluate(sample, previous: state.sample)
            let elapsed = state.progressAt.map { (now - $0).seconds } ?? 0
            var point = AdminStats.Point(
                time: LedgerTimestamp(sample.takenAt).millisecondsSinceEpoch, eventsPerSecond: 0,
                lag: sample.consumerLag,
                pending: sample.pending, hitRate: nil, errors: 0, deadLetters: sample.deadLetters)
            if let progress {
                let before = state.progress
                if let before, elapsed > 0 {
                    point.eventsPerSecond = Double(progress.processed - before.processed) / elapsed
                }
                point.errors =
                    (progress.deadLettered - (before?.deadLettered ?? 0)) + (progress.retried - (before?.retried ?? 0))
                    + (progress.lost - (before?.lost ?? 0))
                record(progress, since: before)
            } else {
                point.eventsPerSecond = sample.eventsPerSecond ?? 0
                point.errors = max(
                    0, (sample.deadLetters ?? 0) - (state.sample?.deadLetters ?? sample.deadLetters ?? 0))
            }
            if let hits = sample.hits, let misses = sample.misses, let previousHits = state.sample?.hits,
                let previousMisses = state.sample?.misses, state.sample?.hitRateSource == sample.hitRateSource
            {
                let reads = (hits - previousHits) + (misses - previousMisses)
                if reads > 0 { point.hitRate = Double(hits - previousHits) * 100 / Double(reads) }
            }
            if let warm { record(warm, since: state.warm ?? .init()) }
            state.warm = warm
            state.sample = sample
            state.report = report
            state.progress = progress
            state.progressAt = now
            state.history.append(point)
            if state.history.count > historyLength { state.history.removeFirst(state.history.count - historyLength) }
            setGauges(sample, report: report)
        }
    }

    /// The figures `/api/stats` returns.
    func stats() -> AdminStats {
        let usage = cache?.memoryTierUsage
        return state.withLock { state in
            AdminStats(
                consumer: worker?.configuration.consumer, stream: stream, group: group,
                startedAt: LedgerTimestamp(started).description, uptimeSeconds: Date().timeIntervalSince(started),
                overall: state.report?.overall,
                reasons: state.report?.reasons.map { "\($0.component): \($0.message)" } ?? [], progress: state.progress,
                warm: state.warm,
                streamLength: state.sample?.streamLength, lag: state.sample?.consumerLag,
                pending: state.sample?.pending,
                consumers: state.sample?.consumers, deadLetters: state.sample?.deadLetters,
                hitRate: state.sample?.hitRate,
                hitRateSource: state.sample?.hitRateSource?.rawValue,
                eventsPerSecond: state.history.last?.eventsPerSecond ?? 0,
                redisLatencyMilliseconds: state.sample?.redisLatencyMilliseconds, memoryTierEntries: usage?.entries,
                sampleIntervalSeconds: interval.seconds, history: state.history)
        }
    }

    // MARK: Metrics

    /// Counts what the worker did since `before` (since it started, for the first sample).
    private func record(_ progress: WorkerProgress, since before: WorkerProgress?) {
        func add(_ counter: Counter, _ figure: KeyPath<WorkerProgress, Int>) {
            let delta = progress[keyPath: figure] - (before?[keyPath: figure] ?? 0)
            if delta > 0 { counter.increment(by: delta) }
        }
        add(metrics.eventsProcessed, \.processed)
        add(metrics.eventsDeadLettered, \.deadLettered)
        add(metrics.handlerFailures, \.retried)
        add(metrics.eventsDuplicate, \.duplicates)
        add(metrics.eventsLost, \.lost)
        add(metrics.batches, \.batches)
        add(metrics.tagsInvalidated, \.tagsInvalidated)
        add(metrics.entriesInvalidated, \.entriesInvalidated)
        let batches = progress.batches - (before?.batches ?? 0)
        if batches > 0 {
            // The interval's events spread over its batches as evenly as whole numbers allow: the
            // histogram's count and sum are exact.
            let events = max(0, progress.processed - (before?.processed ?? 0))
            for index in 0..<batches { metrics.batchSize.record(events / batches + (index < events % batches ? 1 : 0)) }
        }
    }

    private func record(_ warm: AdminStats.WarmJobs, since before: AdminStats.WarmJobs) {
        func add(_ counter: Counter, _ now: Int, _ then: Int) {
            if now > then { counter.increment(by: now - then) }
        }
        add(metrics.warmScheduled, warm.scheduled, before.scheduled)
        add(metrics.warmSucceeded, warm.succeeded, before.succeeded)
        add(metrics.warmFailed, warm.failed, before.failed)
        add(metrics.warmCoalesced, warm.coalesced, before.coalesced)
        add(metrics.warmDropped, warm.dropped, before.dropped)
        add(metrics.warmPredicted, warm.predicted, before.predicted)
    }

    private func setGauges(_ sample: HealthSample, report: HealthReport) {
        if let pending = sample.pending { metrics.pending.record(pending) }
        if let lag = sample.consumerLag { metrics.consumerLag.record(lag) }
        if let length = sample.streamLength { metrics.streamLength.record(length) }
        if let deadLetters = sample.deadLetters { metrics.deadLetters.record(deadLetters) }
        if let latency = sample.redisLatency { metrics.redisLatency.record(latency.seconds) }
        if let usage = cache?.memoryTierUsage {
            metrics.memoryTierEntries.record(usage.entries)
            metrics.memoryTierBytes.record(usage.bytes)
        }
        metrics.healthStatus.record(Int(report.overall.exitCode))
    }

    /// Observes the events committed since the previous sample into the duration and lag histograms.
    private func observeLedger() async {
        let now = LedgerTimestamp.now()
        let events: [LedgerEvent]
        do {
            events = try await ledger.events(
                filter: LedgerEventFilter(since: now.advanced(by: .seconds(-300)), limit: 1000))
        } catch {
            logger.debug("admin: cannot read recent events", metadata: ["tagwave.error": "\(error)"])
            return
        }
        let consumers = worker.map { Set($0.consumers) }
        let (until, edge) = state.withLock { ($0.observedUntil, $0.observedAtEdge) }
        var newest = until
        var newestIDs = edge
        for event in events where event.status == .processed && consumers?.contains(event.worker) != false {
            guard let processedAt = event.processedAt?.millisecondsSinceEpoch else { continue }
            if processedAt < until || (processedAt == until && edge.contains(event.eventID)) { continue }
            if let duration = event.duration { metrics.handlerDuration.recordNanoseconds(duration.nanoseconds) }
            let lag = max(0, processedAt - event.occurredAt.millisecondsSinceEpoch)
            metrics.invalidationLag.recordNanoseconds(lag * 1_000_000)
            if processedAt > newest {
                newest = processedAt
                newestIDs = [event.eventID]
            } else if processedAt == newest {
                newestIDs.insert(event.eventID)
            }
        }
        state.withLock {
            $0.observedUntil = newest
            $0.observedAtEdge = newestIDs
        }
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
