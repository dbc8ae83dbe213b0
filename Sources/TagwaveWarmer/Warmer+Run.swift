import Logging
import ServiceLifecycle
import Synchronization
import TagwaveLedger
import TagwaveRedis

extension Warmer {
    /// The loop's own state, touched only by ``run()``'s task.
    private struct RunState {
        var plan: WarmPlan
        var bucket: TokenBucket
        /// Rows not recorded yet: written together, at most 50 ms after the first of them.
        var records: [LedgerWarmJob] = [] {
            didSet {
                if records.isEmpty {
                    flushAt = nil
                } else if flushAt == nil {
                    flushAt = Warmer.monotonicNow() + 50_000_000
                }
            }
        }
        /// When ``records`` are written (later after a failure).
        var flushAt: UInt64?
        /// No token was left: the next one comes at this time.
        var tokenAt: UInt64?
        /// Shutdown: running jobs are cancelled at this time.
        var stopDeadline: UInt64?
    }

    /// Releases a claim only while it is still ours: `if GET == value then DEL`.
    private static let releaseScript = RedisScript(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")

    /// Runs warm jobs until graceful shutdown (or cancellation), then records what is left.
    ///
    /// On graceful shutdown it takes no new requests, drops the jobs not yet due (recorded
    /// `skipped`, their claims released), gives running jobs ``WarmerConfiguration/shutdownGrace``,
    /// cancels the rest, records every outcome and returns. Put it before the ``TagwaveWorker/Worker``
    /// in the `ServiceGroup` so that the worker stops first.
    /// - Throws: nothing in practice: Redis and ledger failures are logged and retried.
    public func run() async throws {
        let http = HTTPGetter(
            threads: configuration.concurrency, connectTimeout: configuration.connectTimeout,
            timeout: configuration.timeout)
        defer { http.shutdown() }
        let started = Self.monotonicNow()
        var state = RunState(
            plan: WarmPlan(
                worker: configuration.owner, delay: configuration.delay, window: configuration.effectiveWindow),
            bucket: TokenBucket(ratePerSecond: configuration.ratePerSecond, burst: configuration.burst, now: started))
        logger.info(
            "warmer started",
            metadata: [
                "tagwave.warm.delay_ms": "\(configuration.delay.milliseconds)",
                "tagwave.warm.window_ms": "\(configuration.effectiveWindow.milliseconds)",
                "tagwave.warm.concurrency": "\(configuration.concurrency)",
            ])
        if configuration.effectiveWindow > configuration.delay {
            logger.notice(
                "warm window is longer than the delay: an event arriving after a target's job started and before its window ends is not followed by a warm of its own"
            )
        }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while true {
                    let now = Self.monotonicNow()
                    var (requests, completions, invalidated, stopping) = inbox.withLock { inbox in
                        defer {
                            inbox.requests.removeAll(keepingCapacity: true)
                            inbox.completions.removeAll(keepingCapacity: true)
                            inbox.invalidated.removeAll(keepingCapacity: true)
                        }
                        return (inbox.requests, inbox.completions, inbox.invalidated, inbox.stopping)
                    }
                    let stop = stopping || Task.isCancelled
                    for (job, attempt) in completions {
                        finish(job, attempt, retry: !stop, now: now, state: &state)
                    }
                    if stop {
                        if state.stopDeadline == nil {
                            state.stopDeadline = now + configuration.shutdownGrace.nanoseconds
                            await drop(requests, state: &state)
                        }
                    } else {
                        if !invalidated.isEmpty { requests += await predictedRequests(following: invalidated) }
                        if !requests.isEmpty { await admit(requests, state: &state) }
                        startDueJobs(&state, group: &group, http: http)
                    }
                    await flush(&state, final: false)
                    if stop {
                        if state.plan.running == 0 { break }
                        if Task.isCancelled || Self.monotonicNow() >= state.stopDeadline ?? 0 {
                            logger.notice("warmer: cancelling \(state.plan.running) running warm jobs at shutdown")
                            group.cancelAll()
                            break
                        }
                    }
                    await wakeUp.wait(until: nextWake(state))
                }
            }
        } onGracefulShutdown: {
            self.inbox.withLock { $0.stopping = true }
            self.wakeUp.signal()
        }
        // Every job task has returned: record their outcomes and whatever arrived meanwhile.
        let (requests, completions) = inbox.withLock { inbox in
            inbox.stopped = true
            defer {
                inbox.requests.removeAll()
                inbox.completions.removeAll()
            }
            return (inbox.requests, inbox.completions)
        }
        let now = Self.monotonicNow()
        for (job, attempt) in completions {
            finish(job, attempt, retry: false, now: now, state: &state)
        }
        await drop(requests, state: &state)
        await flush(&state, final: true)
        logger.info(
            "warmer stopped",
            metadata: ["tagwave.warm.succeeded": "\(metrics.succeeded)", "tagwave.warm.failed": "\(metrics.failed)"])
    }

    // MARK: Steps

    /// Coalesces what it can locally and claims the other targets in one Redis round trip.
    private func admit(_ requests: [WarmPlan.Request], state: inout RunState) async {
        let (coalesced, claims) = state.plan.admit(requests, now: Self.monotonicNow())
        record(coalesced, state: &state)
        guard !claims.isEmpty else { return }
        let window = RedisArgument(max(1, configuration.effectiveWindow.milliseconds))
        var commands: [RedisCommand] = []
        commands.reserveCapacity(claims.count * 3)
        for claim in claims {
            let key = RedisArgument(claimKey(claim.target))
            commands.append(RedisCommand("SET", key, RedisArgument(claimValue), "NX", "PX", window))
            commands.append(RedisCommand("GET", key))
            commands.append(RedisCommand("PTTL", key))
        }
        let sentAt = Self.monotonicNow()
        let replies: [RedisReply]
        do {
            replies = try await redis.pipeline(commands)
        } catch {
            logger.warning("cannot claim warm targets in Redis; warming them without coordination: \(error)")
            let repliedAt = Self.monotonicNow()
            for claim in claims {
                record(
                    state.plan.claimed(claim, .unknown(sentAt: sentAt, repliedAt: repliedAt), wallNow: .now()),
                    state: &state)
            }
            return
        }
        let repliedAt = Self.monotonicNow()
        for (index, claim) in claims.enumerated() {
            let set = replies[index * 3]
            let outcome: WarmPlan.ClaimOutcome
            if let message = set.errorMessage {
                logger.warning(
                    "Redis refused the warm claim of \(claim.target); warming it without coordination: \(message)")
                outcome = .unknown(sentAt: sentAt, repliedAt: repliedAt)
            } else if !set.isNull {
                outcome = .won(sentAt: sentAt, repliedAt: repliedAt)
            } else {
                let holder = replies[index * 3 + 1].string.map(Self.ownerName) ?? "another worker"
                let remaining = replies[index * 3 + 2].int.flatMap { $0 > 0 ? UInt64($0) * 1_000_000 : nil }
                outcome = .lost(owner: holder, remaining: remaining, sentAt: sentAt)
            }
            record(state.plan.claimed(claim, outcome, wallNow: .now()), state: &state)
        }
    }

    /// Starts due jobs while slots and tokens last.
    private func startDueJobs(_ state: inout RunState, group: inout DiscardingTaskGroup, http: HTTPGetter) {
        state.tokenAt = nil
        while state.plan.running < max(1, configuration.concurrency) {
            let now = Self.monotonicNow()
            guard let due = state.plan.nextDueTime, due <= now else { return }
            if let wait = state.bucket.take(now: now) {
                state.tokenAt = now + wait
                return
            }
            guard let job = state.plan.startNext(now: now) else { return }
            count { $0.attempts += 1 }
            group.addTask {
                let attempt = await self.attempt(job, http: http)
                self.inbox.withLock { $0.completions.append((job.id, attempt)) }
                self.wakeUp.signal()
            }
        }
    }

    /// One attempt of `job`: an HTTP GET or the closure, under the timeout.
    private func attempt(_ job: WarmPlan.Job, http: HTTPGetter) async -> WarmPlan.Attempt {
        let started = ContinuousClock.now
        var status: Int?
        var failure: WarmerError?
        switch route(job.target) {
        case .http(let target):
            do {
                let response = try await http.get(target, url: job.target)
                status = response.status
                if (300..<400).contains(response.status) {
                    failure = WarmerError(
                        .redirect,
                        "the backend answered \(response.status) for \(job.target), redirecting to \(response.location ?? "nowhere"): "
                            + "the warmer follows no redirects; make the warm target the final URL",
                        target: job.target, httpStatus: response.status)
                } else if !(200..<300).contains(response.status) {
                    failure = WarmerError(
                        .httpStatus,
                        "the backend answered \(response.status) for \(job.target) (5xx, 408 and 429 are retried; fix the endpoint "
                            + "or the warm: template)",
                        target: job.target, httpStatus: response.status)
                }
            } catch let error as WarmerError {
                failure = error
            } catch {
                failure = WarmerError(
                    .connectionFailed, "the request for \(job.target) failed: \(error)", target: job.target)
            }
        case .closure(let warm):
            failure = await runClosure(warm, target: job.target)
        case .invalid(let error):
            failure = error
        }
        return WarmPlan.Attempt(duration: ContinuousClock.now - started, httpStatus: status, error: failure)
    }

    /// Runs a closure warmer, cancelled after the timeout.
    private func runClosure(_ warm: @escaping WarmFunction, target: String) async -> WarmerError? {
        let timeout = configuration.timeout
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await warm(target)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let finished = try await group.next() ?? false
                group.cancelAll()
                if !finished {
                    throw WarmerError(
                        .timeout,
                        "the closure warmer for \(target) took longer than \(timeout.milliseconds) ms and was cancelled: make it "
                            + "faster or raise warm.timeout_ms",
                        target: target)
                }
            }
            return nil
        } catch let error as WarmerError {
            return error
        } catch  where Task.isCancelled {
            return WarmerError(
                .cancelled, "the closure warmer for \(target) was cancelled (the warmer is shutting down)",
                target: target)
        } catch {
            return WarmerError(.closureFailed, "the closure warmer for \(target) threw: \(error)", target: target)
        }
    }

    /// Applies an attempt's result: a retry after backoff, or the job's final row.
    private func finish(_ id: Int, _ attempt: WarmPlan.Attempt, retry: Bool, now: UInt64, state: inout RunState) {
        guard let job = state.plan.jobs[id] else { return }
        let retryAfter = retry && job.attempts <= configuration.retries ? backoff(afterAttempt: job.attempts) : nil
        guard let row = state.plan.finished(id, attempt, retryAfter: retryAfter, now: now, wallNow: .now()) else {
            count { $0.retried += 1 }
            logger.debug(
                "warm attempt failed; retrying",
                metadata: [
                    "tagwave.warm.target": "\(job.target)", "tagwave.event.id": "\(job.eventID)",
                    "tagwave.attempt": "\(job.attempts)", "tagwave.error": "\(attempt.error?.description ?? "")",
                ])
            return
        }
        let metadata: Logger.Metadata = [
            "tagwave.warm.target": "\(row.target)", "tagwave.event.id": "\(row.eventID ?? "-")",
            "tagwave.warm.attempts": "\(row.attempts)",
            "tagwave.warm.http_status": "\(row.httpStatus.map(String.init) ?? "-")",
        ]
        if row.status == .succeeded {
            count {
                $0.succeeded += 1
                $0.pending -= 1
                $0.latency.add(attempt.duration)
            }
            logger.info("warmed \(row.target) in \(attempt.duration.milliseconds) ms", metadata: metadata)
        } else {
            count {
                $0.failed += 1
                $0.pending -= 1
            }
            logger.warning("warm job failed after \(row.attempts) attempts: \(row.error ?? "")", metadata: metadata)
        }
        state.records.append(row)
    }

    /// Shutdown: drops the jobs not yet due and `requests` not yet claimed, releasing their claims.
    private func drop(_ requests: [WarmPlan.Request], state: inout RunState) async {
        let reason = "the worker shut down before it was due"
        let wallNow = LedgerTimestamp.now()
        var (rows, targets) = state.plan.dropWaiting(reason: reason, wallNow: wallNow)
        rows += requests.map {
            LedgerWarmJob(
                target: $0.target, eventID: $0.eventID, status: .skipped, error: "not run: \(reason)",
                worker: configuration.owner,
                scheduledAt: $0.receivedAt, finishedAt: wallNow)
        }
        guard !rows.isEmpty else { return }
        let skipped = rows.filter { $0.status == .skipped }.count
        count {
            $0.skipped += skipped
            $0.failed += rows.count - skipped
            $0.pending -= rows.count
        }
        state.records += rows
        logger.notice("warmer: \(rows.count) warm jobs dropped at shutdown")
        guard !targets.isEmpty else { return }
        let release = targets.map {
            RedisCommand.evalsha(
                Self.releaseScript, keys: [RedisArgument(claimKey($0))], arguments: [RedisArgument(claimValue)])
        }
        do {
            _ = try await redis.pipeline(release)
        } catch {
            logger.debug("warm claims not released at shutdown (they expire with their window): \(error)")
        }
    }

    /// Writes the rows gathered so far in one ledger transaction; on failure keeps them for later.
    private func flush(_ state: inout RunState, final: Bool) async {
        guard let flushAt = state.flushAt, final || state.records.count >= 1000 || Self.monotonicNow() >= flushAt else {
            return
        }
        do {
            try await ledger.recordWarmJobs(state.records)
            state.records.removeAll(keepingCapacity: true)
        } catch {
            logger.warning("cannot record \(state.records.count) warm job outcomes in the ledger; retrying: \(error)")
            state.flushAt = Self.monotonicNow() + 1_000_000_000
            let limit = 100_000
            if state.records.count > limit {
                logger.error(
                    "dropping \(state.records.count - limit) unrecorded warm job outcomes: the ledger keeps failing")
                state.records.removeFirst(state.records.count - limit)
            }
        }
    }

    /// Appends coalesced rows (when they are recorded) and counts them.
    private func record(_ rows: [LedgerWarmJob], state: inout RunState) {
        guard !rows.isEmpty else { return }
        count {
            $0.coalesced += rows.count
            $0.pending -= rows.count
        }
        if configuration.recordCoalesced { state.records += rows }
    }

    private func nextWake(_ state: RunState) -> ContinuousClock.Instant? {
        var times: [UInt64] = []
        if let tokenAt = state.tokenAt {
            times.append(tokenAt)  // a job is due, but the rate limit holds it until then
        } else if state.plan.running < max(1, configuration.concurrency), let due = state.plan.nextDueTime {
            times.append(due)
        }
        if let stopDeadline = state.stopDeadline { times.append(stopDeadline) }
        if let flushAt = state.flushAt { times.append(flushAt) }
        guard let earliest = times.min() else { return nil }
        let now = Self.monotonicNow()
        return ContinuousClock.now.advanced(by: .nanoseconds(Int64(earliest > now ? earliest - now : 0)))
    }

    private func backoff(afterAttempt attempt: Int) -> Duration {
        let base = configuration.initialBackoff.nanoseconds
        let capped = min(configuration.maxBackoff.nanoseconds, base << UInt64(min(max(attempt - 1, 0), 20)))
        return .nanoseconds(Int64(Double(capped) * Double.random(in: 0.5...1.0)))
    }

    /// The claiming warmer's name, without its instance token.
    private static func ownerName(_ value: String) -> String {
        value.lastIndex(of: "/").map { String(value[..<$0]) } ?? value
    }
}
