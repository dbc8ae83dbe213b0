import TagwaveLedger

/// One event with every outcome, the warm jobs it scheduled and its dead-letter history: what
/// `tagwave events show --json` prints and the admin server's `GET /api/events/:id` answers.
public struct EventDetailView: Sendable, Hashable, Encodable {
    /// One warm job the event scheduled.
    public struct WarmJob: Sendable, Hashable, Encodable {
        /// The job's id in the ledger.
        public var id: Int64
        /// The URL or the warmer's name.
        public var target: String
        /// `scheduled`, `succeeded`, `failed`, `skipped` or `coalesced`.
        public var status: String
        /// The HTTP status the warm request got.
        public var httpStatus: Int?
        /// Attempts so far.
        public var attempts: Int
        /// How long the warming took, in milliseconds.
        public var durationMs: Double?
        /// Why it failed or was skipped.
        public var error: String?
        /// The consumer that ran it.
        public var worker: String?
        /// When it was scheduled (RFC 3339).
        public var scheduledAt: String
        /// When it ended.
        public var finishedAt: String?
        /// The replay run that scheduled it; nil for live handling.
        public var replayRunID: Int64?
    }

    /// The event, its outcomes and its tags.
    public var event: EventView
    /// The warm jobs it scheduled, oldest first.
    public var warmJobs: [WarmJob]
    /// Dead letters of the same event (an earlier failed version, since retried).
    public var deadLetters: [DeadLetterView]

    /// The view of `detail`.
    public init(_ detail: LedgerEventDetail) {
        event = EventView(detail.record, withOutcomes: true)
        warmJobs = detail.warmJobs.map {
            WarmJob(
                id: $0.id ?? 0, target: $0.target, status: $0.status.rawValue, httpStatus: $0.httpStatus,
                attempts: $0.attempts, durationMs: $0.duration.map(Self.milliseconds), error: $0.error, worker: $0.worker,
                scheduledAt: $0.scheduledAt.description, finishedAt: $0.finishedAt?.description,
                replayRunID: $0.replayRunID)
        }
        deadLetters = detail.deadLetters.map(DeadLetterView.init)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
