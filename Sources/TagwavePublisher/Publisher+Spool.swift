import Logging
import Synchronization
import TagwaveRedis

extension Publisher {
    /// Delivers spooled events to Redis, oldest first, until the spool is empty.
    ///
    /// Events go in batches of ``PublisherConfiguration/drainBatchSize``, each one pipelined round
    /// trip; a batch is deleted from the spool only after Redis acknowledged it. If the process dies
    /// in between, the batch is sent again by the next drain: the worker deduplicates by event id.
    /// One drain runs at a time; a second call waits for the first, then drains what is left.
    ///
    /// A drain stops at the first sign that Redis cannot take writes now (unreachable, `LOADING`,
    /// `OOM`…), so the order is kept for the next one. An event Redis refuses for good (`WRONGTYPE`,
    /// `NOPERM`) stays in the spool with the reason, counted in its `attempts` and `last_error`; the
    /// events after it are delivered, and every drain reports the refusal until the cause is fixed.
    ///
    /// - Returns: How many events were delivered (0 without a spool, or when it is empty).
    /// - Throws: ``PublisherError``: ``PublisherError/Code/redisUnavailable`` when Redis cannot take
    ///   writes yet (the events stay spooled, their attempt counted); ``PublisherError/Code/redisRefused``
    ///   when Redis refused events for good; ``PublisherError/Code/spool``.
    @discardableResult
    public func drain() async throws -> Int {
        guard let spool else { return 0 }
        await drainLock.lock()
        defer { drainLock.unlock() }
        let trim = configuration.trim.streamTrim
        var delivered = 0
        var refusals: [(sequence: Int64, reason: String)] = []
        var after: Int64 = 0
        while true {
            let batch = try await spool.oldest(after: after, limit: configuration.drainBatchSize)
            guard let last = batch.last else { break }
            after = last.sequence
            let replies: [RedisReply]
            do {
                replies = try await redis.pipeline(batch.map { .xadd($0.stream, fields: $0.fields, trim: trim) })
            } catch {
                let reason = "\(error)"
                try await spool.recordFailure(batch.map { (sequence: $0.sequence, reason: reason) })
                throw PublisherError(
                    .redisUnavailable,
                    "cannot deliver spooled events yet: \(reason); they stay in the spool \(spool.path) and are "
                        + "delivered, in order, by a later drain"
                        + (delivered > 0 ? " (\(delivered) were delivered)" : ""),
                    spoolPath: spool.path, underlying: error)
            }
            var acknowledged: [Int64] = []
            var failures: [(sequence: Int64, reason: String)] = []
            for (event, reply) in zip(batch, replies) {
                if let message = reply.errorMessage {
                    failures.append((event.sequence, message))
                } else {
                    acknowledged.append(event.sequence)
                }
            }
            try await spool.delete(acknowledged)
            delivered += acknowledged.count
            try await spool.recordFailure(failures)
            if let first = failures.first(where: { Self.isTemporaryRefusal($0.reason) }) {
                throw PublisherError(
                    .redisUnavailable,
                    "Redis cannot take spooled events yet (seq \(first.sequence)): \(first.reason); they stay in the "
                        + "spool \(spool.path) and are delivered by a later drain"
                        + (delivered > 0 ? " (\(delivered) were delivered)" : ""),
                    spoolPath: spool.path)
            }
            refusals += failures
        }
        if let first = refusals.first {
            throw PublisherError(
                .redisRefused,
                "Redis refused \(refusals.count) spooled event(s) (first: seq \(first.sequence)): \(first.reason); "
                    + "they stay in the spool \(spool.path) and are retried by every drain. Fix the cause (is the "
                    + "key a stream? may the Redis user XADD to it?), or stop the publisher and delete them with "
                    + "sqlite3 (table spool, column seq)"
                    + (delivered > 0 ? "; \(delivered) other events were delivered" : ""),
                spoolPath: spool.path)
        }
        let recovered = outage.withLock { state in
            defer { state = OutageLog() }
            return state.spooling || state.drainFailing
        }
        if recovered || delivered > 0 {
            logger.notice(
                "delivered \(delivered) spooled event(s); the spool is empty",
                metadata: ["tagwave.spool.path": "\(spool.path)"])
        }
        return delivered
    }

    /// Drains the spool every ``PublisherConfiguration/drainInterval`` while it holds events, until
    /// the task is cancelled. Run it for the publisher's lifetime (a task of its own, or a service
    /// of a `ServiceGroup`: it has the shape of swift-service-lifecycle's `Service.run()`).
    ///
    /// It drains at once when it starts, so events spooled by an earlier run go out first. It
    /// returns on cancellation without waiting for Redis; what is still spooled stays in the file.
    /// Without a spool it only waits for cancellation. Failures are logged, once per outage.
    public func run() async {
        guard let spool else {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
            }
            return
        }
        while !Task.isCancelled {
            if spool.mayHoldEvents {
                do {
                    try await drain()
                } catch {
                    let first = outage.withLock { state in
                        defer { state.drainFailing = true }
                        return !state.drainFailing
                    }
                    let refused = (error as? PublisherError)?.code == .redisRefused
                    logger.log(
                        level: first ? (refused ? .error : .warning) : .debug, "spooled events not delivered: \(error)",
                        metadata: ["tagwave.spool.path": "\(spool.path)"])
                }
            }
            do {
                try await Task.sleep(for: configuration.drainInterval)
            } catch {
                return
            }
        }
    }
}
