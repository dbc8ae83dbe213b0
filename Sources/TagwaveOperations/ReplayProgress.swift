import Synchronization
import TagwaveLedger

/// Where a replay stands, reported after each batch.
public struct ReplayProgress: Sendable, Hashable {
    /// The run.
    public var runID: Int64
    /// Events replayed, this run and the runs it continues.
    public var done: Int
    /// Events the run selected.
    public var total: Int
    /// Events replayed since this process started (the rate's numerator).
    public var doneNow: Int
    /// Time since this process started the run.
    public var elapsed: Duration
    /// Events per second since this process started the run.
    public var rate: Double
    /// Time left at that rate; nil before the first batch.
    public var eta: Duration?
    /// The recording sequence number of the last event finished.
    public var lastEventSeq: Int64?

    /// The share done, 0…1.
    public var fraction: Double { total == 0 ? 1 : min(1, Double(done) / Double(total)) }
}

/// What a dry run would do with one event.
public struct ReplayPlanItem: Sendable, Hashable, Encodable {
    /// The ledger sequence number.
    public var seq: Int64
    /// The event id.
    public var eventID: String
    /// The event type.
    public var type: String
    /// When it occurred.
    public var occurredAt: String
    /// Tags it would invalidate.
    public var invalidate: [String]
    /// Targets it would warm.
    public var warm: [String]
    /// True when a rule matches its type.
    public var matched: Bool
    /// Why the rules cannot be applied to it.
    public var error: String?
}

/// How a replay ended.
public struct ReplaySummary: Sendable, Hashable, Encodable {
    /// The run as it now stands in the ledger.
    public var run: ReplayRunView
    /// True when this call continued an interrupted or failed run instead of starting one.
    public var resumed: Bool
    /// Events replayed by this call.
    public var eventsReplayed: Int
    /// Events no rule matches (nothing to do).
    public var eventsWithoutRule: Int
    /// Distinct tags invalidated by this call (dry run: that it would invalidate).
    public var tagsInvalidated: Int
    /// Cache entries those invalidations made unreadable.
    public var entriesRemoved: Int
    /// Warm targets handed to the warmer.
    public var warmScheduled: Int
    /// Warm targets recorded as skipped because no warmer is available.
    public var warmSkipped: Int
    /// Events whose rules could not be applied (recorded as failed outcomes).
    public var failures: Int
    /// True when the operator interrupted it; resume with `tagwave replay --resume <run.id>`.
    public var interrupted: Bool
    /// What a dry run would do, event by event (empty for a real replay).
    public var plan: [ReplayPlanItem]
}

/// Asks a running replay to stop after its current batch (the CLI calls ``stop()`` on SIGINT).
public final class ReplayControl: Sendable {
    private let stopped = Atomic<Bool>(false)

    /// A control, not stopped.
    public init() {}

    /// Stops the replay after the batch in hand is recorded.
    public func stop() { stopped.store(true, ordering: .relaxed) }

    /// True once ``stop()`` was called.
    public var isStopped: Bool { stopped.load(ordering: .relaxed) }
}
