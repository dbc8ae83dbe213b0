import Foundation
import Logging
import Synchronization
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis

extension Worker {
    /// A decoded event of the batch, filled in place as it passes rules and handlers (no copy of it
    /// per stage), waiting for the batch's invalidation and commit.
    private struct Handled {
        /// The stream entry's id; the entry itself stays in the batch, at `position`.
        var entryID: StreamID
        var position: Int
        var streamID: String
        var eventID: String
        var attempts: Int
        var event: Event
        /// The payload values the rules' templates use.
        var values: [JSONScalar?]
        var tags: [String] = []
        var outcomes: [LedgerHandlerOutcome] = []
        var started = LedgerTimestamp(millisecondsSinceEpoch: 0)
        /// False once the event was dead-lettered, left to retry, or found to be a duplicate.
        var proceeds = true
    }

    /// The rules and handlers of the event type last asked for: a batch is mostly of one type, and
    /// each lookup hashes the type (the handlers' also take a lock).
    private struct RoutingCache {
        var type = ""
        var templates: TemplateSet?
        var handlers: [(name: String, handler: EventHandler)] = []
        var filled = false

        /// Makes ``templates`` and ``handlers`` those of `type` (read them in place: a copy of a
        /// template set retains each of its arrays).
        mutating func select(_ type: String, in worker: Worker) {
            guard !filled || self.type != type else { return }
            self.type = type
            templates = worker.rules.templates(for: type)
            handlers = worker.handlers(for: type)
            filled = true
        }
    }

    /// Handles a batch: decode, route, run handlers, invalidate once, then commit once and acknowledge.
    ///
    /// With `overlap`, the commit and acknowledgement run in the background while the caller reads and
    /// invalidates the next batches (two cores: one busy with SQLite, the other with Redis); up to
    /// ``CommitPipeline/depth`` are in flight, each waiting for the one before, so commits and acks
    /// stay in order and every entry is still acknowledged only after its own commit.
    func handle(
        _ batch: [(entry: StreamEntry, attempts: Int)], retries: inout RetrySchedule, commits: inout CommitPipeline,
        overlap: Bool = false
    ) async throws {
        guard !batch.isEmpty else { return }
        let batchStarted = ContinuousClock.now
        let receivedAt = LedgerTimestamp.now()
        var handled: [Handled] = []
        var deadLetters: [LedgerDeadLetter] = []
        var lost: [LedgerEventRecord] = []
        var acknowledge: [StreamID] = []
        var duplicates = 0
        var retried = 0
        // Whether any event of the batch has Swift handlers (see below).
        var needsLookup = false

        var routing = RoutingCache()
        var fieldList: [(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)] = []
        handled.reserveCapacity(batch.count)
        for position in batch.indices {
            let (entry, attempts) = batch[position]
            do {
                // Read in place from the entry's buffer (the list of fields is reused from entry to
                // entry); the event keeps copies of what it needs.
                let decoded = try entry.withUnsafeFields { fields throws(EventDecodingError) in
                    fieldList.append(contentsOf: fields)
                    defer { fieldList.removeAll(keepingCapacity: true) }  // the buffers die with the call
                    return try Event.decode(
                        fields: fieldList, maxPayloadBytes: configuration.maxPayloadBytes,
                        extractingWith: { type in
                            routing.select(type, in: self)
                            return routing.templates?.scanner
                        })
                }
                // Consumed, so the event and its values move into the batch instead of being copied.
                switch consume decoded {
                case nil:
                    // Deleted or trimmed while pending: recorded as lost, never retried.
                    lost.append(lostRecord(entry.id, receivedAt: receivedAt))
                    acknowledge.append(entry.id)
                case let (event, values)?:
                    routing.select(event.type, in: self)
                    if !routing.handlers.isEmpty { needsLookup = true }
                    let streamID = entry.id.description
                    handled.append(Handled(
                        entryID: entry.id, position: position, streamID: streamID, eventID: event.id ?? streamID,
                        attempts: attempts, event: event, values: values))
                }
            } catch {
                deadLetters.append(deadLetter(entry, eventID: entry.id.description, type: nil, code: error.code, reason: error.description, attempts: attempts, retries: &retries))
                acknowledge.append(entry.id)
            }
        }
        // Handlers of our own must not run twice for an event the ledger has; rules alone are idempotent
        // (the commit ignores ids already recorded), so the lookup is skipped when no handler would run.
        var recorded = needsLookup ? try await ledger.isRecorded(eventIDs: handled.map(\.eventID)) : []
        recorded.reserveCapacity(recorded.count + handled.count)
        acknowledge.reserveCapacity(batch.count)

        // While Swift handlers run, and until the batch is acknowledged, keep its entries visibly
        // alive: a handler slower than the claim timeout must not let another worker claim (and run)
        // the same entries. The commit task takes the heartbeat over and stops it after the XACK.
        let heartbeat = needsLookup ? keepClaimed(handled.map(\.entryID)) : nil
        var heartbeatHandedOver = false
        defer { if !heartbeatHandedOver { heartbeat?.cancel() } }
        var dropped = 0
        // Gathered as the events pass (walking `handled` again would copy every event out of it).
        var batchTags: [String] = []
        batchTags.reserveCapacity(2 * handled.count)
        var warmJobs: [(targets: [String], eventID: String)] = []
        // For predictive warming: the event of each entry of `batchTags`.
        let followed = warmer?.followsInvalidations == true
        var batchTagEvents: [String] = []
        for index in handled.indices {
            // Already in the ledger, or earlier in this batch (redelivery, replay, two producers).
            if !recorded.insert(handled[index].eventID).inserted {
                duplicates += 1
                acknowledge.append(handled[index].entryID)
                _ = retries.finished(handled[index].streamID)
                handled[index].proceeds = false
                dropped += 1
                continue
            }
            handled[index].started = LedgerTimestamp.now()
            let type = handled[index].event.type
            routing.select(type, in: self)
            let attempts = handled[index].attempts
            // Ends this event's part in the batch: dead-lettered (and acknowledged), or left to retry.
            func drop(deadLettering letter: (code: String, reason: String)? = nil) {
                if let letter {
                    deadLetters.append(deadLetter(
                        batch[handled[index].position].entry, eventID: handled[index].eventID, type: type, code: letter.code,
                        reason: letter.reason, attempts: attempts, retries: &retries))
                    acknowledge.append(handled[index].entryID)
                }
                handled[index].proceeds = false
                dropped += 1
            }
            var tags: [String] = []
            var warm: [String] = []
            if routing.templates != nil {
                do {
                    // Read in place: binding the set to a constant would retain each of its arrays.
                    let rendered = try routing.templates!.render(values: handled[index].values)
                    tags = rendered.tags
                    warm = rendered.urls
                } catch {
                    drop(deadLettering: ("rule_unfillable", "\(error)"))
                    continue
                }
            }
            if needsLookup, !routing.handlers.isEmpty {
                let eventHandlers = routing.handlers
                let context = HandlerContext(streamID: handled[index].streamID, attempt: attempts)
                var failure: (permanent: Bool, handler: String, error: String)?
                for (name, handler) in eventHandlers {
                    let handlerStarted = ContinuousClock.now
                    let handlerStartedAt = LedgerTimestamp.now()
                    do {
                        try await handler(handled[index].event, context)
                        handled[index].outcomes.append(LedgerHandlerOutcome(
                            handler: name, kind: .closure, status: .succeeded, attempts: attempts,
                            duration: ContinuousClock.now - handlerStarted, worker: configuration.consumer,
                            startedAt: handlerStartedAt, finishedAt: .now()))
                    } catch let error as PermanentHandlerError {
                        failure = (true, name, error.reason)
                        break
                    } catch {
                        failure = (false, name, "\(error)")
                        break
                    }
                }
                if let failure {
                    if failure.permanent || attempts >= configuration.deliveryLimit {
                        drop(deadLettering: failure.permanent
                            ? ("handler_permanent_error", "handler \(failure.handler) cannot handle this event: \(failure.error)")
                            : ("delivery_limit", "handler \(failure.handler) failed \(attempts) times (delivery limit \(configuration.deliveryLimit)); last error: \(failure.error)"))
                    } else {
                        retries.failed(
                            handled[index].streamID, attempts: attempts, error: failure.error, now: Self.monotonicNow(),
                            wallClock: LedgerTimestamp.now().millisecondsSinceEpoch, jitter: Double.random(in: 0..<1))
                        retried += 1
                        logger.debug("handler failed; retrying later", metadata: [
                            "tagwave.event.id": "\(handled[index].eventID)", "tagwave.attempt": "\(attempts)", "tagwave.error": "\(failure.error)",
                        ])
                        drop()
                    }
                    continue
                }
                tags += context.requested.tags
                warm += context.requested.warm
            }
            // One bad tag would fail the whole batch's invalidation, again at every redelivery.
            if let problem = tags.lazy.compactMap(TaggedCache.problem(withTag:)).first {
                drop(deadLettering: ("tag_invalid", "its rules or handlers asked to invalidate a tag the cache refuses: \(problem)"))
                continue
            }
            batchTags += tags
            if followed { batchTagEvents += repeatElement(handled[index].eventID, count: tags.count) }
            if !warm.isEmpty { warmJobs.append((warm, handled[index].eventID)) }
            handled[index].tags = tags
        }
        if dropped > 0 { handled.removeAll { !$0.proceeds } }

        // One round trip for the batch's distinct tags (the cache drops repeats, keeping the first).
        let invalidationStarted = ContinuousClock.now
        let invalidation = try await cache.invalidate(tags: batchTags)
        let invalidationTook = ContinuousClock.now - invalidationStarted

        let finishedAt = LedgerTimestamp.now()
        let elapsed = ContinuousClock.now - batchStarted
        var records = lost
        records.reserveCapacity(lost.count + handled.count)
        let handledCount = handled.count
        let retrying = !retries.isEmpty
        let debugging = logger.logLevel <= .debug
        var debugLines: [(id: String, type: String, tags: String, trace: String)] = []
        // The invalidation answers the batch's tags in the order they were given: event by event.
        var position = 0
        // Each event is reached in place, through `inout` (an element read out of the array, or passed
        // on by value, would be copied whole: a retain and a release of each of its fields).
        func finish(_ item: inout Handled) {
            if retrying { _ = retries.finished(item.streamID) }
            if debugging {
                debugLines.append((item.eventID, item.event.type, item.tags.joined(separator: ","), item.event.traceparent ?? "-"))
            }
            acknowledge.append(item.entryID)
            records.append(ledgerRecord(
                of: &item, invalidation: invalidation, tagsFrom: &position, invalidationTook: invalidationTook,
                receivedAt: receivedAt, finishedAt: finishedAt, elapsed: elapsed))
        }
        for index in handled.indices { finish(&handled[index]) }

        let last = batch.map(\.entry.id).max()
        let lastAcked = acknowledge.max()
        let offset = LedgerOffset(
            stream: configuration.stream, group: configuration.group, consumer: configuration.consumer,
            lastDeliveredID: last?.description, lastAckedID: lastAcked?.description, updatedAt: finishedAt)
        let ledgerBatch = LedgerBatch(events: records, deadLetters: deadLetters, offsets: [offset])
        let deadCount = deadLetters.count
        let lostCount = lost.count
        let tagCount = invalidation.tags.count
        let entries = invalidation.entries
        let followedTags = followed ? batchTags : []

        try await commits.makeRoom()
        commits.start { [self, acknowledge, warmJobs, followedTags, batchTagEvents, duplicates, retried, debugLines] in
            defer { heartbeat?.cancel() }
            let commit = try await ledger.record(ledgerBatch)
            try await redis.xack(configuration.stream, group: configuration.group, ids: acknowledge)
            if let warmer {
                for job in warmJobs { await warmer.schedule(targets: job.targets, eventID: job.eventID) }
                if !followedTags.isEmpty { await warmer.followInvalidations(tags: followedTags, eventIDs: batchTagEvents) }
            }
            shared.counters.withLock {
                $0.processed += handledCount - commit.alreadyRecordedEventIDs.count
                $0.deadLettered += deadCount
                $0.lost += lostCount
                $0.duplicates += duplicates + commit.alreadyRecordedEventIDs.count
                $0.retried += retried
                $0.batches += 1
                $0.tagsInvalidated += tagCount
                $0.entriesInvalidated += Int(entries)
            }
            logger.info(
                "batch: \(handledCount) processed, \(deadCount) dead-lettered, \(lostCount) lost, \(duplicates) duplicate, \(retried) to retry; \(tagCount) tags, \(entries) entries invalidated in \(ContinuousClock.now - batchStarted)")
            for (id, type, tags, trace) in debugLines {
                logger.debug("event processed", metadata: [
                    "tagwave.event.id": "\(id)", "tagwave.event.type": "\(type)", "tagwave.tags": "\(tags)", "tagwave.trace": "\(trace)",
                ])
            }
        }
        heartbeatHandedOver = true
        if !overlap { try await commits.drain() }
    }

    /// The ledger record of a handled event, its rules' invalidation last among its outcomes. Its tags'
    /// answers are those of `invalidation` from `position` on, which moves past them.
    private func ledgerRecord(
        of item: inout Handled, invalidation: InvalidationResult, tagsFrom position: inout Int, invalidationTook: Duration,
        receivedAt: LedgerTimestamp, finishedAt: LedgerTimestamp, elapsed: Duration
    ) -> LedgerEventRecord {
        var outcomes = item.outcomes
        var invalidated: [LedgerTagInvalidation] = []
        invalidated.reserveCapacity(item.tags.count)
        var removed = 0
        for tag in item.tags {
            let entries = Int(invalidation.tags[invalidation.positions[position]].entries)
            position += 1
            invalidated.append(LedgerTagInvalidation(tag: tag, entriesRemoved: entries))
            removed += entries
        }
        if !item.tags.isEmpty {
            outcomes.append(LedgerHandlerOutcome(
                handler: configuration.ruleHandlerName, kind: .invalidate, status: .succeeded, attempts: item.attempts,
                entriesRemoved: removed, duration: invalidationTook, worker: configuration.consumer,
                startedAt: item.started, finishedAt: finishedAt, invalidatedTags: invalidated))
        }
        let event = LedgerEvent(
            eventID: item.eventID, stream: configuration.stream, streamID: item.streamID, type: item.event.type,
            source: item.event.source,
            occurredAt: item.event.occurredAt.map { LedgerTimestamp(millisecondsSinceEpoch: $0.millisecondsSinceEpoch) } ?? receivedAt,
            receivedAt: receivedAt, payload: String(decoding: item.event.payload, as: UTF8.self),
            metadata: item.event.metadata.isEmpty
                ? [:] : Dictionary(item.event.metadata.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
            traceparent: item.event.traceparent, status: .processed, attempts: item.attempts, worker: configuration.consumer,
            processedAt: finishedAt, duration: elapsed, entriesRemoved: removed)
        return LedgerEventRecord(event: event, outcomes: outcomes)
    }

    /// Resets the idle time of `ids` every fifth of the claim timeout (`XCLAIM … 0 … JUSTID`, which
    /// counts no delivery) until cancelled. Four beats may be late or lost before another worker's
    /// `XAUTOCLAIM` could take the entries, which leaves room for a loaded host.
    private func keepClaimed(_ ids: [StreamID]) -> ClaimHeartbeat? {
        guard !ids.isEmpty else { return nil }
        let command = RedisCommand(
            "XCLAIM",
            [RedisArgument(configuration.stream), RedisArgument(configuration.group), RedisArgument(configuration.consumer), 0]
                + ids.map { RedisArgument($0.utf8) } + ["JUSTID"])
        return ClaimHeartbeat(redis: redis, command: command, every: configuration.claimIdle / 5)
    }

    private func deadLetter(
        _ entry: StreamEntry, eventID: String, type: String?, code: String, reason: String, attempts: Int, retries: inout RetrySchedule
    ) -> LedgerDeadLetter {
        let pending = retries.finished(entry.id.description)
        logger.warning("event dead-lettered: \(reason)", metadata: ["tagwave.event.id": "\(eventID)", "tagwave.reason": "\(code)"])
        return LedgerDeadLetter(
            eventID: eventID, stream: configuration.stream, streamID: entry.id.description, type: type,
            fields: (entry.fields ?? []).map { .init(name: String(decoding: $0.name, as: UTF8.self), value: String(decoding: $0.value, as: UTF8.self)) },
            reasonCode: code, reason: reason, attempts: attempts,
            firstFailedAt: pending.map { LedgerTimestamp(millisecondsSinceEpoch: $0.firstFailedAt) }, deadLetteredAt: .now(),
            worker: configuration.consumer)
    }

    private func lostRecord(_ id: StreamID, receivedAt: LedgerTimestamp) -> LedgerEventRecord {
        logger.warning("entry was deleted or trimmed while pending; recorded as lost", metadata: ["tagwave.stream.id": "\(id)"])
        return LedgerEventRecord(event: LedgerEvent(
            eventID: id.description, stream: configuration.stream, streamID: id.description, type: "unknown", occurredAt: receivedAt,
            receivedAt: receivedAt, payload: "{}", status: .lost, worker: configuration.consumer,
            error: "the stream entry was deleted or trimmed while it was pending"))
    }
}

/// The commits of the last batches, running while the next batch's Redis work happens.
///
/// Each waits for the one before it, so commits and acknowledgements land in the order the batches
/// were read; a failure fails every commit after it, and ``makeRoom()`` or ``drain()`` rethrows it
/// once those have ended, so the next batch starts a fresh chain.
struct CommitPipeline {
    /// Commits in flight, oldest first.
    private var inflight: [Task<Void, any Error>] = []
    /// How many commits may be in flight while the consumer reads on: two keep the ledger busy while
    /// one consumer waits for Redis.
    let depth = 2

    /// Waits until another commit may start; rethrows a failure of one in flight.
    mutating func makeRoom() async throws {
        while inflight.count >= depth { try await awaitOldest() }
    }

    /// Starts `commit` after those in flight.
    mutating func start(_ commit: @escaping @Sendable () async throws -> Void) {
        let previous = inflight.last
        inflight.append(Task {
            try await previous?.value
            try await commit()
        })
    }

    /// Waits for every batch in flight to be committed and acknowledged; rethrows a failure.
    mutating func drain() async throws {
        while !inflight.isEmpty { try await awaitOldest() }
    }

    private mutating func awaitOldest() async throws {
        do {
            try await inflight.removeFirst().value
        } catch {
            // The commits behind it wait for it and fail with it, touching neither the ledger nor Redis.
            for task in inflight { _ = try? await task.value }
            inflight.removeAll()
            throw error
        }
    }
}

/// Re-claims a batch's entries for their own consumer at a fixed interval (`XCLAIM … JUSTID` resets
/// their idle time) until cancelled, so that no other worker's `XAUTOCLAIM` takes them while their
/// handlers run.
///
/// It beats on a timer of its own and sends on a Redis connection's own thread, never through
/// Swift's cooperative pool: busy tasks (handlers computing, a loaded host) must not delay a beat
/// past the claim timeout. When no connection is idle at that instant, the beat goes the usual way.
final class ClaimHeartbeat: @unchecked Sendable {
    private let timer: any DispatchSourceTimer

    init(redis: any RedisCommanding, command: RedisCommand, every interval: Duration) {
        let nanoseconds = Int(interval.components.seconds) * 1_000_000_000 + Int(interval.components.attoseconds / 1_000_000_000)
        timer = DispatchSource.makeTimerSource(queue: Self.queue)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds))
        timer.setEventHandler {
            if !redis.sendDetached(command) { Task { _ = try? await redis.send(command) } }
        }
        timer.resume()
    }

    /// Stops the beats (a beat already sent still lands).
    func cancel() { timer.cancel() }

    deinit { timer.cancel() }

    /// One serial queue for every heartbeat: a beat is only a hand-off to a connection's thread.
    private static let queue = DispatchQueue(label: "tagwave.claim-heartbeat")
}
