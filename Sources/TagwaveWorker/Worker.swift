import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis

/// The invalidation worker: one consumer of a Redis Streams consumer group (or several, see below).
///
/// Per batch it decodes the events, runs the rules and the registered Swift handlers, invalidates
/// the batch's distinct tags in one round trip, records history, outcomes and dead letters in the
/// ledger in one transaction, and only then acknowledges the entries (at-least-once; the ledger
/// records each event id once). A failing event is retried with backoff on its own, without holding
/// up the entries behind it, and dead-lettered after ``WorkerConfiguration/deliveryLimit``.
///
/// ```swift
/// let worker = Worker(redis: redis, ledger: ledger, cache: cache, configuration: .init(consumer: "host-1"),
///                     rules: rules, logger: logger)
/// worker.on("session.created") { event, context in context.invalidate("sessions") }
/// try await ServiceGroup(services: [worker], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
/// ```
/// It is a `Service`: on graceful shutdown it stops reading, finishes the batch in hand, commits,
/// acknowledges and returns.
///
/// With ``WorkerConfiguration/concurrency`` above 1 it runs that many consumers side by side
/// (`consumer`, `consumer/2`, …), each reading, invalidating and committing its own batches, so that
/// one consumer's Redis round trips overlap another's decoding and ledger commit.
public final class Worker: Service, Sendable {
    /// How it reads, retries, claims and trims.
    public let configuration: WorkerConfiguration
    let redis: any RedisCommanding
    let ledger: Ledger
    let cache: TaggedCache
    let rules: RuleBook
    let warmer: (any WarmScheduling)?
    let logger: Logger
    let shared: WorkerShared
    /// The other consumers this worker runs (``WorkerConfiguration/concurrency`` − 1); they share
    /// its handlers and counters, and leave trimming, retention and consumer cleanup to it.
    private let lanes: [Worker]

    /// A worker.
    /// - Parameters:
    ///   - redis: the client for the stream and the cache (its pool needs 2 connections or more:
    ///     one is held by the blocking read).
    ///   - ledger: where history, outcomes, offsets and dead letters are committed.
    ///   - cache: the tagged cache whose protocol invalidates tags.
    ///   - rules: declarative rules from the configuration file.
    ///   - warmer: where warm targets go after invalidation; nil ignores them.
    public convenience init(
        redis: any RedisCommanding, ledger: Ledger, cache: TaggedCache, configuration: WorkerConfiguration,
        rules: [InvalidationRule] = [], warmer: (any WarmScheduling)? = nil, logger: Logger
    ) {
        let shared = WorkerShared()
        let book = RuleBook(rules)
        let lanes = (2..<max(2, configuration.concurrency + 1)).map { lane in
            var laneConfiguration = configuration
            laneConfiguration.consumer = "\(configuration.consumer)/\(lane)"
            laneConfiguration.concurrency = 1
            laneConfiguration.trimInterval = nil
            laneConfiguration.retention = nil
            laneConfiguration.idleConsumerTimeout = nil
            return Worker(
                redis: redis, ledger: ledger, cache: cache, configuration: laneConfiguration, rules: book, warmer: warmer,
                shared: shared, logger: logger)
        }
        self.init(
            redis: redis, ledger: ledger, cache: cache, configuration: configuration, rules: book, warmer: warmer,
            shared: shared, logger: logger, lanes: lanes)
    }

    private init(
        redis: any RedisCommanding, ledger: Ledger, cache: TaggedCache, configuration: WorkerConfiguration, rules: RuleBook,
        warmer: (any WarmScheduling)?, shared: WorkerShared, logger: Logger, lanes: [Worker] = []
    ) {
        self.redis = redis
        self.ledger = ledger
        self.cache = cache
        self.configuration = configuration
        self.rules = rules
        self.warmer = warmer
        self.shared = shared
        self.lanes = lanes
        var logger = logger
        logger[metadataKey: "tagwave.worker"] = "\(configuration.consumer)"
        self.logger = logger
    }

    /// Registers a Swift handler for events of `type` (call before ``run()``).
    ///
    /// The handler may invalidate tags and schedule warming through its context. Throw
    /// ``PermanentHandlerError`` when the event can never be handled (dead-lettered at once); any other
    /// error is retried with backoff up to the delivery limit.
    public func on(_ type: String, name: String? = nil, _ handler: @escaping EventHandler) {
        shared.handlers.withLock { $0[type, default: []].append((name ?? type, handler)) }
    }

    /// Counters since the worker started.
    public var progress: WorkerProgress { shared.counters.withLock { $0 } }

    func handlers(for type: String) -> [(name: String, handler: EventHandler)] {
        shared.handlers.withLock { $0[type] ?? [] }
    }

    // MARK: Running

    /// Reads and handles events until graceful shutdown (or cancellation).
    /// - Throws: ``WorkerError`` when the worker cannot start (the group cannot be created); errors
    ///   while running are logged and retried, never thrown.
    public func run() async throws {
        try await prepare()
        logger.info(
            "worker started",
            metadata: [
                "tagwave.stream": "\(configuration.stream)", "tagwave.group": "\(configuration.group)",
                "tagwave.consumers": "\(consumers.joined(separator: ","))",
            ])
        let stopping = StopFlag()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup { group in
                for lane in [self] + lanes {
                    group.addTask { try await lane.runLane(stopping: stopping) }
                }
                try await group.waitForAll()
            }
        } onGracefulShutdown: { [logger] in
            stopping.stop()
            logger.notice("shutdown requested: finishing the batch in hand, then committing and acknowledging")
        }
        logger.info("worker stopped", metadata: ["tagwave.processed": "\(progress.processed)"])
    }

    /// The consumer names this worker reads and records as: ``WorkerConfiguration/consumer``, then
    /// `consumer/2`, … (one per ``WorkerConfiguration/concurrency``).
    public var consumers: [String] { [configuration.consumer] + lanes.map(\.configuration.consumer) }

    /// One consumer's loop, until `stopping` or cancellation; commits what it read before returning.
    private func runLane(stopping: StopFlag) async throws {
        var state = LoopState(retries: RetrySchedule(initialDelay: configuration.initialRetryDelay, maxDelay: configuration.maxRetryDelay))
        try await loop(&state, stopping: stopping)
    }

    private func loop(_ state: inout LoopState, stopping: StopFlag) async throws {
        while !stopping.isStopped && !Task.isCancelled {
            do {
                try await step(&state)
                state.failures = 0
            } catch {
                state.failures += 1
                state.readHistory = true
                if state.failures == 1 { logger.error("batch failed; its entries stay pending and are retried: \(error)") }
                else { logger.debug("batch failed again: \(error)") }
                if await recoverIfGroupMissing(error) { continue }
                try? await Task.sleep(for: .milliseconds(min(100 * (1 << min(state.failures, 6)), 5000)))
            }
        }
        // The batch in flight is committed and acknowledged before the worker stops.
        do {
            try await state.commits.drain()
        } catch {
            logger.error("the last batch did not commit; its entries stay pending for the next start or another worker: \(error)")
        }
    }

    struct LoopState {
        var retries: RetrySchedule
        var readHistory = true
        var commits = CommitPipeline()
        var failures = 0
        var lastClaim: ContinuousClock.Instant = .now
        var lastTrim: ContinuousClock.Instant = .now
        var lastCleanup: ContinuousClock.Instant = .now
        /// Nil until the first pass, which runs soon after start.
        var lastRetention: ContinuousClock.Instant?
    }

    /// One turn of the loop: due retries, claims of dead consumers' entries, then new entries.
    private func step(_ state: inout LoopState) async throws {
        let now = Self.monotonicNow()
        let due = state.retries.due(at: now, limit: configuration.batchSize)
        if !due.isEmpty {
            let entries = try await claim(ids: due)
            let attempts = Dictionary(uniqueKeysWithValues: due.map { ($0, (state.retries.state(of: $0)?.attempts ?? 0) + 1) })
            try await handle(entries.map { ($0, attempts[$0.id.description] ?? 1) }, retries: &state.retries, commits: &state.commits)
            return
        }
        if ContinuousClock.now - state.lastClaim > configuration.claimIdle / 2 {
            state.lastClaim = .now
            try await state.commits.drain()
            try await claimAbandoned(retries: &state.retries)
        }
        if let interval = configuration.trimInterval, ContinuousClock.now - state.lastTrim > interval {
            state.lastTrim = .now
            await trim()
        }
        if let retention = configuration.retention,
            state.lastRetention.map({ ContinuousClock.now - $0 > configuration.retentionInterval }) ?? true
        {
            state.lastRetention = .now
            await applyRetention(retention)
        }
        if let idle = configuration.idleConsumerTimeout, ContinuousClock.now - state.lastCleanup > .seconds(60) {
            state.lastCleanup = .now
            await removeIdleConsumers(olderThan: idle)
        }
        if state.readHistory {
            // Our own pending entries first (after a restart or a failed batch), except those waiting for a retry.
            let history = try await read(id: "0", block: nil)
            let waiting = Set(state.retries.pending.keys)
            let entries = history.filter { !waiting.contains($0.id.description) }
            if entries.isEmpty {
                state.readHistory = false
            } else {
                let deliveries = try await deliveryCounts(entries.map(\.id))
                try await handle(entries.map { ($0, deliveries[$0.id] ?? 1) }, retries: &state.retries, commits: &state.commits)
                return
            }
        }
        let nextDue = state.retries.pending.values.map(\.dueAt).min()
        var block = configuration.block
        if let nextDue {
            let wait = Duration.nanoseconds(Int64(nextDue > now ? nextDue - now : 0))
            block = max(.milliseconds(1), min(block, wait))
        }
        let entries = try await read(id: ">", block: block)
        if entries.isEmpty {
            // A quiet stream: let the commits in flight finish now, so that one that failed (an XACK
            // lost with its connection) is retried at once rather than at the next batch or claim pass.
            try await state.commits.drain()
        } else {
            // A full batch means more are waiting: read and invalidate the next one while this one commits.
            try await handle(
                entries.map { ($0, 1) }, retries: &state.retries, commits: &state.commits,
                overlap: entries.count == configuration.batchSize)
        }
    }

    func read(id: String, block: Duration?) async throws -> [StreamEntry] {
        try await redis.xreadgroup(
            group: configuration.group, consumer: configuration.consumer, stream: configuration.stream, id: id,
            count: configuration.batchSize, block: block)
    }

    static func monotonicNow() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }
}

/// Handlers and counters, shared by a worker's lanes.
final class WorkerShared: Sendable {
    let handlers = Mutex<[String: [(name: String, handler: EventHandler)]]>([:])
    let counters = Mutex(WorkerProgress())
}

/// Set once when graceful shutdown is requested; read by the loop between batches.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func stop() { flag.store(true, ordering: .relaxed) }
    var isStopped: Bool { flag.load(ordering: .relaxed) }
}

/// Counters of a running worker.
public struct WorkerProgress: Sendable, Hashable, Codable {
    /// Events handled and recorded.
    public var processed = 0
    /// Events dead-lettered (poison, permanent errors, delivery limit).
    public var deadLettered = 0
    /// Entries deleted or trimmed while pending: recorded as lost.
    public var lost = 0
    /// Deliveries of events already in the ledger (acknowledged without running handlers again).
    public var duplicates = 0
    /// Handler failures that were scheduled for a retry.
    public var retried = 0
    /// Batches committed.
    public var batches = 0
    /// Distinct tags invalidated.
    public var tagsInvalidated = 0
    /// Cache entries made unreadable.
    public var entriesInvalidated = 0
}

/// Why a worker cannot run.
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and what to do.
    public let description: String
    init(_ description: String) { self.description = description }
}
