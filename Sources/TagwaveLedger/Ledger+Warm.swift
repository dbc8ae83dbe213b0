import TagwaveSQLite

/// How one cache-warming request ended, as the ledger keeps it in `warm_jobs`: one row per
/// (target, event) a warmer was asked for.
///
/// The job that ran has its outcome (`succeeded`, `failed`) against the first event that asked for
/// it; every other event that asked for the same target in the same coalescing window has a
/// `coalesced` row saying whose job covered it, so an auditor sees why no request was made for it.
public struct LedgerWarmJob: Sendable, Hashable {
    /// How a warm request ended.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Waiting to run (not written by the Tagwave warmer, which records final outcomes only).
        case scheduled
        /// The warmer ran and the backend (or the closure) succeeded.
        case succeeded
        /// Every attempt failed; ``LedgerWarmJob/error`` has the last failure.
        case failed
        /// Dropped without a request: the worker shut down before the job was due.
        case skipped
        /// Covered by another job for the same target in the same window (on this worker or another).
        case coalesced
    }

    /// The row id; nil before it is recorded.
    public var id: Int64?
    /// The URL (HTTP warmer) or the target a closure warmer was asked for.
    public var target: String
    /// The event that asked for it. Recorded through the event's ledger row: a job whose event the
    /// ledger does not have is kept without it (and then read back with `eventID` nil).
    public var eventID: String?
    /// How it ended.
    public var status: Status
    /// The backend's HTTP status of the last attempt, for HTTP warmers that got an answer.
    public var httpStatus: Int?
    /// Requests made (0 for coalesced and skipped jobs).
    public var attempts: Int
    /// Time spent in requests, all attempts together (backoff waits excluded; stored in microseconds).
    public var duration: Duration?
    /// Why it failed; for coalesced and skipped jobs, why no request was made.
    public var error: String?
    /// The consumer whose warmer recorded it.
    public var worker: String?
    /// When the warmer received the request.
    public var scheduledAt: LedgerTimestamp
    /// Not before this time: the request time plus the warm delay.
    public var dueAt: LedgerTimestamp?
    /// When it ended.
    public var finishedAt: LedgerTimestamp?
    /// The replay run that scheduled it; nil for a live delivery.
    public var replayRunID: Int64?

    /// A warm job outcome; optional fields default to absent.
    public init(
        id: Int64? = nil,
        target: String,
        eventID: String?,
        status: Status,
        httpStatus: Int? = nil,
        attempts: Int = 0,
        duration: Duration? = nil,
        error: String? = nil,
        worker: String? = nil,
        scheduledAt: LedgerTimestamp,
        dueAt: LedgerTimestamp? = nil,
        finishedAt: LedgerTimestamp? = nil,
        replayRunID: Int64? = nil
    ) {
        self.id = id
        self.target = target
        self.eventID = eventID
        self.status = status
        self.httpStatus = httpStatus
        self.attempts = attempts
        self.duration = duration
        self.error = error
        self.worker = worker
        self.scheduledAt = scheduledAt
        self.dueAt = dueAt
        self.finishedAt = finishedAt
        self.replayRunID = replayRunID
    }
}

extension Ledger {
    /// Records warm job outcomes in one transaction.
    ///
    /// Each job is attached to its event's ledger row by ``LedgerWarmJob/eventID``; the worker
    /// schedules warming only after the event's batch was committed, so the row is there. Deleting
    /// the event by retention deletes its warm jobs.
    ///
    /// - Throws: ``LedgerError``: `busy` when another process held the lock past the busy timeout,
    ///   `diskFull`. Nothing of the call is recorded then; calling again records it.
    public func recordWarmJobs(_ jobs: [LedgerWarmJob]) async throws {
        guard !jobs.isEmpty else { return }
        try await withDatabase { database in
            try database.transaction(.immediate) {
                let insert = try database.cachedStatement(
                    """
                    INSERT INTO warm_jobs (
                        target, event_seq, status, http_status, attempts, duration_us, error, worker,
                        scheduled_at_ms, due_at_ms, finished_at_ms, replay_run_id
                    ) VALUES (?1, (SELECT seq FROM events WHERE event_id = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                    """
                )
                for job in jobs {
                    try insert.bind(job.target, at: 1)
                    try insert.bind(job.eventID, at: 2)
                    try insert.bind(job.status.rawValue, at: 3)
                    try insert.bind(job.httpStatus, at: 4)
                    try insert.bind(max(0, job.attempts), at: 5)
                    try insert.bind(job.duration?.wholeMicroseconds, at: 6)
                    try insert.bind(job.error, at: 7)
                    try insert.bind(job.worker, at: 8)
                    try insert.bind(job.scheduledAt.millisecondsSinceEpoch, at: 9)
                    try insert.bind(job.dueAt?.millisecondsSinceEpoch, at: 10)
                    try insert.bind(job.finishedAt?.millisecondsSinceEpoch, at: 11)
                    try insert.bind(job.replayRunID, at: 12)
                    try insert.execute()
                }
            }
        }
    }

    /// The warm jobs event `eventID` asked for, in recording order: what its `warm:` targets and
    /// `context.warm` calls led to.
    ///
    /// - Throws: ``LedgerError``.
    public func warmJobs(eventID: String) async throws -> [LedgerWarmJob] {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                """
                SELECT \(LedgerWarmJobReader.columns)
                FROM warm_jobs w JOIN events e ON e.seq = w.event_seq
                WHERE e.event_id = ?1 ORDER BY w.id
                """
            )
            try select.bind(eventID, at: 1)
            return try LedgerWarmJobReader(path: path).jobs(from: select)
        }
    }

    /// The warm jobs for `target` recorded at or after `since`, newest first: "how often was this
    /// list warmed, by whom, and did it work".
    ///
    /// - Parameters:
    ///   - target: the URL or closure target, exactly as scheduled.
    ///   - since: from this time (inclusive); nil for the beginning.
    ///   - limit: at most this many.
    /// - Throws: ``LedgerError``.
    public func warmJobs(target: String, since: LedgerTimestamp? = nil, limit: Int = 1000) async throws
        -> [LedgerWarmJob]
    {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                """
                SELECT \(LedgerWarmJobReader.columns)
                FROM warm_jobs w LEFT JOIN events e ON e.seq = w.event_seq
                WHERE w.target = ?1 AND w.scheduled_at_ms >= ?2
                ORDER BY w.scheduled_at_ms DESC, w.id DESC LIMIT ?3
                """
            )
            try select.bind(target, at: 1)
            try select.bind(since?.millisecondsSinceEpoch ?? .min, at: 2)
            try select.bind(max(0, limit), at: 3)
            return try LedgerWarmJobReader(path: path).jobs(from: select)
        }
    }
}

/// Turns `warm_jobs` rows into ``LedgerWarmJob``s. Runs on the ledger's thread.
struct LedgerWarmJobReader {
    let path: String

    /// The columns ``jobs(from:)`` reads, for a query naming `warm_jobs` `w` and `events` `e`.
    static let columns = """
        w.id, w.target, e.event_id, w.status, w.http_status, w.attempts, w.duration_us, w.error, w.worker,
        w.scheduled_at_ms, w.due_at_ms, w.finished_at_ms, w.replay_run_id
        """

    /// The jobs of the event at `seq`, oldest first.
    func jobs(ofEventSeq seq: Int64, in database: SQLiteDatabase) throws -> [LedgerWarmJob] {
        let select = try database.cachedStatement(
            """
            SELECT \(Self.columns)
            FROM warm_jobs w JOIN events e ON e.seq = w.event_seq
            WHERE w.event_seq = ?1 ORDER BY w.id
            """
        )
        try select.bind(seq, at: 1)
        return try jobs(from: select)
    }

    func jobs(from select: SQLiteStatement) throws -> [LedgerWarmJob] {
        var jobs: [LedgerWarmJob] = []
        while try select.step() == .row {
            let id = select.int64(at: 0)
            guard let status = select.string(at: 3).flatMap(LedgerWarmJob.Status.init(rawValue:)) else {
                throw LedgerError(
                    .unexpectedData,
                    "the status of warm job \(id) in \(path) holds a value this program cannot read: the ledger "
                        + "was written by another version or edited by hand",
                    path: path
                )
            }
            jobs.append(
                LedgerWarmJob(
                    id: id,
                    target: select.string(at: 1) ?? "",
                    eventID: select.string(at: 2),
                    status: status,
                    httpStatus: select.optionalInt64(at: 4).map(Int.init),
                    attempts: select.int(at: 5),
                    duration: select.optionalInt64(at: 6).map { Duration.microseconds($0) },
                    error: select.string(at: 7),
                    worker: select.string(at: 8),
                    scheduledAt: LedgerTimestamp(millisecondsSinceEpoch: select.int64(at: 9)),
                    dueAt: select.optionalInt64(at: 10).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
                    finishedAt: select.optionalInt64(at: 11).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
                    replayRunID: select.optionalInt64(at: 12)
                )
            )
        }
        return jobs
    }
}
