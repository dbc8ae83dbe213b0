import TagwaveLedger

/// The warmer's decisions without I/O: which requests coalesce, which need a claim, which jobs are
/// due, whether a failed attempt is retried, what each outcome records. Times are monotonic
/// nanoseconds given by the caller; the ``Warmer`` does the Redis, HTTP and ledger work around it.
///
/// A request coalesces into a window this warmer knows is open (its own claim, or another
/// worker's it lost to), or into its own job for the target that has not started yet (that job
/// starts after the request, so it still follows the request's invalidation). Otherwise the target
/// needs a claim; requests for it in the same admission follow the claim's result.
struct WarmPlan {
    /// One target asked for by one event.
    struct Request: Sendable {
        var target: String
        var eventID: String
        /// Wall-clock time it was received, for the ledger.
        var receivedAt: LedgerTimestamp
    }

    /// A job: the one request per window that makes the warmer act.
    struct Job: Sendable {
        let id: Int
        let target: String
        /// The first event that asked for it.
        let eventID: String
        let scheduledAt: LedgerTimestamp
        var dueAt: UInt64
        var dueAtWall: LedgerTimestamp
        var attempts = 0
        var spent: Duration = .zero
        var httpStatus: Int?
        var lastError: WarmerError?
        var running = false
    }

    /// A target to claim, with the request that will own the job and those that follow it.
    struct Claim: Sendable {
        var target: String
        var leader: Request
        var followers: [Request] = []
    }

    /// What the claim `SET P:w:<hash> <owner> NX PX <window>` answered.
    enum ClaimOutcome: Sendable {
        /// The key was set: this warmer owns the window. `sentAt` is when the command was sent (the
        /// window surely lasts until `sentAt + window`), `repliedAt` when the answer came.
        case won(sentAt: UInt64, repliedAt: UInt64)
        /// Another warmer holds the window; `remaining` is its `PTTL` in nanoseconds, when known.
        case lost(owner: String, remaining: UInt64?, sentAt: UInt64)
        /// Redis did not answer: the warmer runs the job anyway (at worst a duplicate GET from two
        /// workers; warming is best effort).
        case unknown(sentAt: UInt64, repliedAt: UInt64)
    }

    /// How one attempt went.
    struct Attempt: Sendable {
        var duration: Duration
        var httpStatus: Int?
        var error: WarmerError?
    }

    private enum Window {
        case own(until: UInt64, eventID: String)
        case foreign(owner: String, until: UInt64)

        var until: UInt64 {
            switch self {
            case .own(let until, _), .foreign(_, let until): return until
            }
        }
    }

    /// The consumer name written into the ledger rows.
    let worker: String
    let delay: UInt64
    let window: UInt64
    private(set) var jobs: [Int: Job] = [:]
    /// Jobs running now.
    private(set) var running = 0
    private var windows: [String: Window] = [:]
    /// Per target, its job that is not running (due later, or waiting for a retry).
    private var waiting: [String: Int] = [:]
    private var nextID = 1
    private var lastPrune: UInt64 = 0

    init(worker: String, delay: Duration, window: Duration) {
        self.worker = worker
        self.delay = delay.nanoseconds
        self.window = window.nanoseconds
    }

    /// Requests and jobs not finished yet.
    var pendingJobs: Int { jobs.count }

    /// The earliest time a waiting job is due; nil when none waits.
    var nextDueTime: UInt64? {
        waiting.values.compactMap { jobs[$0]?.dueAt }.min()
    }

    // MARK: Requests and claims

    /// Sorts new requests into those coalesced at once (with their ledger rows) and the targets to claim.
    mutating func admit(_ requests: [Request], now: UInt64) -> (coalesced: [LedgerWarmJob], claims: [Claim]) {
        prune(now: now)
        var coalesced: [LedgerWarmJob] = []
        var claims: [Claim] = []
        var claimIndex: [String: Int] = [:]
        for request in requests {
            if let index = claimIndex[request.target] {
                claims[index].followers.append(request)
            } else if let id = waiting[request.target], let job = jobs[id] {
                coalesced.append(row(request, intoJobOf: job.eventID))
            } else if let window = windows[request.target], window.until > now {
                switch window {
                case .own(_, let eventID): coalesced.append(row(request, intoJobOf: eventID))
                case .foreign(let owner, _): coalesced.append(row(request, claimedBy: owner))
                }
            } else {
                claimIndex[request.target] = claims.count
                claims.append(Claim(target: request.target, leader: request))
            }
        }
        return (coalesced, claims)
    }

    /// Applies a claim's answer: a new job, or coalesced rows for every request of the claim.
    mutating func claimed(_ claim: Claim, _ outcome: ClaimOutcome, wallNow: LedgerTimestamp) -> [LedgerWarmJob] {
        switch outcome {
        case .won(let sentAt, let repliedAt), .unknown(let sentAt, let repliedAt):
            let job = Job(
                id: nextID, target: claim.target, eventID: claim.leader.eventID, scheduledAt: claim.leader.receivedAt,
                dueAt: repliedAt + delay, dueAtWall: wallNow.advanced(by: .nanoseconds(Int64(delay))))
            nextID += 1
            jobs[job.id] = job
            waiting[claim.target] = job.id
            windows[claim.target] = .own(until: sentAt + window, eventID: job.eventID)
            return claim.followers.map { row($0, intoJobOf: job.eventID) }
        case .lost(let owner, let remaining, let sentAt):
            windows[claim.target] = .foreign(owner: owner, until: sentAt + (remaining ?? 0))
            return ([claim.leader] + claim.followers).map { row($0, claimedBy: owner) }
        }
    }

    // MARK: Jobs

    /// The waiting job due first, if it is due at `now`; it is marked running and its attempt counted.
    mutating func startNext(now: UInt64) -> Job? {
        guard let id = waiting.values.min(by: { (jobs[$0]?.dueAt ?? 0) < (jobs[$1]?.dueAt ?? 0) }),
            var job = jobs[id], job.dueAt <= now
        else { return nil }
        waiting[job.target] = nil
        job.running = true
        job.attempts += 1
        jobs[id] = job
        running += 1
        return job
    }

    /// Records an attempt's result. Returns nil when the job is retried `retryAfter` from `now`,
    /// else its final ledger row. A failed job is retried only when `retryAfter` is given, the
    /// error is retryable, and no newer job for the same target is waiting (that one will warm it).
    mutating func finished(
        _ id: Int, _ attempt: Attempt, retryAfter: Duration?, now: UInt64, wallNow: LedgerTimestamp
    ) -> LedgerWarmJob? {
        guard var job = jobs[id] else { return nil }
        if job.running { running -= 1 }
        job.running = false
        job.spent += attempt.duration
        job.httpStatus = attempt.httpStatus ?? attempt.error?.httpStatus
        job.lastError = attempt.error
        if let error = attempt.error, error.isRetryable, let retryAfter, waiting[job.target] == nil {
            job.dueAt = now + retryAfter.nanoseconds
            job.dueAtWall = wallNow.advanced(by: retryAfter)
            jobs[id] = job
            waiting[job.target] = id
            return nil
        }
        jobs[id] = nil
        return finalRow(job, wallNow: wallNow, note: nil)
    }

    /// Drops every job that is not running (graceful shutdown): their rows (`skipped`, or `failed`
    /// for a job that already failed and waited for a retry) and their targets, whose claims the
    /// warmer releases so that another worker may take the next request at once.
    mutating func dropWaiting(reason: String, wallNow: LedgerTimestamp) -> (rows: [LedgerWarmJob], targets: [String]) {
        var rows: [LedgerWarmJob] = []
        var targets: [String] = []
        for (target, id) in waiting {
            guard let job = jobs.removeValue(forKey: id) else { continue }
            targets.append(target)
            windows[target] = nil
            if job.lastError != nil {
                rows.append(finalRow(job, wallNow: wallNow, note: "not retried: \(reason)"))
            } else {
                rows.append(
                    LedgerWarmJob(
                        target: job.target, eventID: job.eventID, status: .skipped, error: "not run: \(reason)",
                        worker: worker,
                        scheduledAt: job.scheduledAt, dueAt: job.dueAtWall, finishedAt: wallNow))
            }
        }
        waiting.removeAll()
        return (rows, targets)
    }

    // MARK: Rows

    private func finalRow(_ job: Job, wallNow: LedgerTimestamp, note: String?) -> LedgerWarmJob {
        let error = job.lastError.map { error in note.map { "\(error.description) (\($0))" } ?? error.description }
        return LedgerWarmJob(
            target: job.target, eventID: job.eventID, status: job.lastError == nil ? .succeeded : .failed,
            httpStatus: job.httpStatus, attempts: job.attempts, duration: job.spent, error: error, worker: worker,
            scheduledAt: job.scheduledAt, dueAt: job.dueAtWall, finishedAt: wallNow)
    }

    private func row(_ request: Request, intoJobOf eventID: String) -> LedgerWarmJob {
        LedgerWarmJob(
            target: request.target, eventID: request.eventID, status: .coalesced,
            error: "coalesced into the warm job of event \(eventID) on \(worker)", worker: worker,
            scheduledAt: request.receivedAt, finishedAt: request.receivedAt)
    }

    private func row(_ request: Request, claimedBy owner: String) -> LedgerWarmJob {
        LedgerWarmJob(
            target: request.target, eventID: request.eventID, status: .coalesced,
            error: "coalesced: \(owner) holds this target's warm window", worker: worker,
            scheduledAt: request.receivedAt, finishedAt: request.receivedAt)
    }

    /// Forgets closed windows, at most once a second (each check walks them all).
    private mutating func prune(now: UInt64) {
        guard now >= lastPrune + 1_000_000_000 else { return }
        lastPrune = now
        windows = windows.filter { $0.value.until > now }
    }
}

extension Duration {
    /// Whole nanoseconds, clamped at zero.
    var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        let value = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        return value > 0 ? UInt64(value) : 0
    }
}
