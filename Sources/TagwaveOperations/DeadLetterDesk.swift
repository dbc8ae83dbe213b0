import Foundation
import Logging
import TagwaveCache
import TagwaveEvents
import TagwaveLedger
import TagwaveRedis
import TagwaveWorker

/// Which dead letters a `tagwave dlq retry|purge` acts on: one, a filter, or all open ones.
public enum DeadLetterSelection: Sendable, Hashable {
    /// The dead letter with this ledger id (it must be open).
    case id(Int64)
    /// Open dead letters with this reason code and/or event type.
    case matching(reasonCode: String?, type: String?)
    /// Every open dead letter.
    case all
}

/// How `tagwave dlq retry` retries.
public enum DeadLetterRetryMode: String, Sendable, Hashable {
    /// Decode and handle it here and now with the current rules; recorded as processed by the operator.
    case rerun
    /// Append its fields to its stream again, for the worker pool to handle.
    case republish
}

/// What retrying one dead letter did.
public struct DeadLetterRetryResult: Sendable, Hashable, Encodable {
    /// How it ended.
    public enum Outcome: String, Sendable, Hashable, Encodable {
        /// Handled now and recorded as processed; the dead letter is marked retried.
        case processed
        /// Appended to the stream again; the dead letter is marked retried.
        case republished
        /// The ledger already had the event (e.g. the producer sent a fixed copy); marked retried.
        case alreadyRecorded = "already_recorded"
        /// It still cannot be handled; it stays open.
        case stillFailing = "still_failing"
    }

    /// The dead letter's ledger id.
    public var id: Int64
    /// The event id it is recorded under (for a poison entry without `id`, its stream entry id).
    public var eventID: String
    /// How it ended.
    public var outcome: Outcome
    /// What happened, for a person.
    public var detail: String
    /// Tags invalidated (rerun).
    public var tags: [String]
    /// The new stream entry id (republish).
    public var streamID: String?
}

/// Triage of the dead-letter queue (`tagwave dlq list|show|retry|purge`).
///
/// A retry re-runs the dead letter through the current rules (default) or re-publishes it; either
/// way the entry's fields are used as they were received, except for a replacement payload an
/// operator gives for a single dead letter (the producer's bad payload, fixed by hand).
///
/// ```swift
/// let desk = DeadLetterDesk(ledger: ledger, redis: redis, cache: cache, rules: rules, operatorName: "ops@host", logger: logger)
/// let results = try await desk.retry(.id(7), payload: #"{"teacherId":"t1","schoolId":"s1"}"#)
/// ```
public struct DeadLetterDesk: Sendable {
    let ledger: Ledger
    let redis: (any RedisCommanding)?
    let cache: TaggedCache?
    let planner: RulePlanner
    let warmer: (any WarmScheduling)?
    let operatorName: String
    let maxPayloadBytes: Int
    let logger: Logger

    /// A desk.
    ///
    /// - Parameters:
    ///   - ledger: where the dead letters are.
    ///   - redis: for re-publishing; nil when only listing, re-running or purging.
    ///   - cache: the tagged cache a re-run invalidates; nil when only listing, re-publishing or purging.
    ///   - rules: the current rules.
    ///   - warmer: where a re-run's warm targets go; nil skips them (the result says so).
    ///   - operatorName: who acts (`user@host`), recorded as who resolved each dead letter.
    ///   - maxPayloadBytes: the workers' payload limit.
    ///   - logger: where it logs.
    public init(
        ledger: Ledger, redis: (any RedisCommanding)?, cache: TaggedCache?, rules: [InvalidationRule],
        warmer: (any WarmScheduling)? = nil,
        operatorName: String, maxPayloadBytes: Int = Event.defaultMaximumPayloadBytes, logger: Logger
    ) {
        self.ledger = ledger
        self.redis = redis
        self.cache = cache
        self.planner = RulePlanner(rules: rules)
        self.warmer = warmer
        self.operatorName = operatorName
        self.maxPayloadBytes = maxPayloadBytes
        self.logger = logger
    }

    /// Dead letters matching `filter`, newest first.
    /// - Throws: ``LedgerError``.
    public func list(_ filter: LedgerDeadLetterFilter) async throws -> [LedgerDeadLetter] {
        try await ledger.deadLetters(matching: filter)
    }

    /// Dead letter `id`, whatever its status.
    /// - Throws: ``OperationsError`` (`notFound`); ``LedgerError``.
    public func show(id: Int64) async throws -> LedgerDeadLetter {
        guard let deadLetter = try await ledger.deadLetter(id: id) else {
            throw OperationsError(
                .notFound, "no dead letter \(id) in \(ledger.path): `tagwave dlq list --status all` lists them")
        }
        return deadLetter
    }

    /// The open dead letters `selection` names, oldest first.
    /// - Throws: ``OperationsError``: `notFound` for an unknown id, `usage` for one already retried or purged.
    public func select(_ selection: DeadLetterSelection) async throws -> [LedgerDeadLetter] {
        let chosen: [LedgerDeadLetter]
        switch selection {
        case .id(let id):
            let deadLetter = try await show(id: id)
            guard deadLetter.status == .open else {
                throw OperationsError(
                    .usage,
                    "dead letter \(id) was already \(deadLetter.status.rawValue) by \(deadLetter.resolvedBy ?? "someone") at "
                        + "\(deadLetter.resolvedAt?.description ?? "an unknown time"): nothing to do")
            }
            chosen = [deadLetter]
        case .matching(let reasonCode, let type):
            chosen = try await ledger.deadLetters(
                matching: LedgerDeadLetterFilter(reasonCode: reasonCode, type: type, limit: Int.max))
        case .all:
            chosen = try await ledger.deadLetters(matching: LedgerDeadLetterFilter(limit: Int.max))
        }
        return chosen.reversed()
    }

    /// Retries the open dead letters `selection` names.
    ///
    /// - Parameters:
    ///   - selection: which.
    ///   - mode: re-run here (default) or re-publish to the stream.
    ///   - payload: a replacement payload (a JSON object) for a single dead letter (`.id`).
    /// - Returns: one result per dead letter, oldest first. Those still failing stay open.
    /// - Throws: ``OperationsError`` (`usage`: a payload for several; `unavailable`: no Redis);
    ///   `RedisError`/`CacheError`; ``LedgerError``.
    public func retry(
        _ selection: DeadLetterSelection, mode: DeadLetterRetryMode = .rerun, payload: String? = nil
    ) async throws -> [DeadLetterRetryResult] {
        if payload != nil {
            guard case .id = selection else {
                throw OperationsError(
                    .usage,
                    "--payload replaces the payload of one dead letter: name it by id (tagwave dlq retry ID --payload …)"
                )
            }
        }
        switch mode {
        case .rerun where cache == nil:
            throw OperationsError(
                .unavailable,
                "re-running a dead letter invalidates its tags and needs Redis: configure it (--config, REDIS_URL)")
        case .republish where redis == nil:
            throw OperationsError(
                .unavailable, "re-publishing a dead letter needs Redis: configure it (--config, REDIS_URL)")
        default: break
        }
        var results: [DeadLetterRetryResult] = []
        for deadLetter in try await select(selection) {
            results.append(try await retry(deadLetter, mode: mode, payload: payload))
        }
        return results
    }

    /// Purges (marks purged, for the audit; the row stays) the open dead letters `selection` names.
    ///
    /// - Returns: how many were purged.
    /// - Throws: ``OperationsError``; ``LedgerError``.
    public func purge(_ selection: DeadLetterSelection) async throws -> Int {
        let chosen = try await select(selection)
        return try await ledger.resolveDeadLetters(ids: chosen.compactMap(\.id), as: .purged, by: operatorName)
    }

    // MARK: One dead letter

    private func retry(_ deadLetter: LedgerDeadLetter, mode: DeadLetterRetryMode, payload: String?) async throws
        -> DeadLetterRetryResult
    {
        let id = deadLetter.id ?? 0
        var fields = deadLetter.fields
        if let payload {
            if let index = fields.firstIndex(where: { $0.name == "payload" }) {
                fields[index].value = payload
            } else {
                fields.append(LedgerDeadLetter.Field(name: "payload", value: payload))
            }
        }
        let event: Event
        do {
            event = try Event.decode(
                fields: fields.map { (name: Array($0.name.utf8), value: Array($0.value.utf8)) },
                maxPayloadBytes: maxPayloadBytes)
        } catch {
            return DeadLetterRetryResult(
                id: id, eventID: deadLetter.eventID, outcome: .stillFailing,
                detail: "still not a valid event (\(error.code)): \(error.description)"
                    + (payload == nil ? "; give a fixed payload with --payload" : ""),
                tags: [], streamID: nil)
        }
        let eventID = event.id ?? deadLetter.eventID
        let plan = planner.plan(type: event.type, payload: event.payload)
        if let error = plan.error {
            return DeadLetterRetryResult(
                id: id, eventID: eventID, outcome: .stillFailing, detail: error, tags: [], streamID: nil)
        }
        switch mode {
        case .republish:
            guard let redis else { throw OperationsError(.unavailable, "re-publishing needs Redis") }
            let streamID = try await redis.xadd(
                deadLetter.stream,
                fields: fields.map { StreamField(name: Array($0.name.utf8), value: Array($0.value.utf8)) })
            try await ledger.resolveDeadLetters(ids: [id], as: .retried, by: operatorName)
            return DeadLetterRetryResult(
                id: id, eventID: eventID, outcome: .republished,
                detail: "appended to \(deadLetter.stream) as \(streamID): the workers handle it", tags: [],
                streamID: streamID.description)
        case .rerun:
            if !(try await ledger.isRecorded(eventIDs: [eventID])).isEmpty {
                try await ledger.resolveDeadLetters(ids: [id], as: .retried, by: operatorName)
                return DeadLetterRetryResult(
                    id: id, eventID: eventID, outcome: .alreadyRecorded,
                    detail: "the ledger already has event \(eventID) (a fixed copy was published?): marked retried",
                    tags: [],
                    streamID: nil)
            }
            return try await rerun(deadLetter, event: event, eventID: eventID, plan: plan)
        }
    }

    private func rerun(_ deadLetter: LedgerDeadLetter, event: Event, eventID: String, plan: RulePlan) async throws
        -> DeadLetterRetryResult
    {
        let id = deadLetter.id ?? 0
        let started = ContinuousClock.now
        let startedAt = LedgerTimestamp.now()
        var entriesByTag: [String: Int] = [:]
        var removed = 0
        if !plan.tags.isEmpty, let cache {
            let result = try await cache.invalidate(tags: plan.tags)
            for tag in result.tags { entriesByTag[tag.tag] = Int(tag.entries) }
            removed = Int(result.entries)
        }
        let took = ContinuousClock.now - started
        let finishedAt = LedgerTimestamp.now()
        var outcomes: [LedgerHandlerOutcome] = []
        if !plan.tags.isEmpty {
            outcomes.append(
                LedgerHandlerOutcome(
                    handler: "rules", kind: .invalidate, status: .succeeded, attempts: 1, entriesRemoved: removed,
                    duration: took,
                    worker: operatorName, startedAt: startedAt, finishedAt: finishedAt,
                    invalidatedTags: plan.tags.map { LedgerTagInvalidation(tag: $0, entriesRemoved: entriesByTag[$0]) })
            )
        }
        var warmNote = ""
        if !plan.warm.isEmpty {
            if let warmer {
                await warmer.schedule(targets: plan.warm, eventID: eventID)
                warmNote = "; \(plan.warm.count) warm target(s) scheduled"
            } else {
                warmNote =
                    "; \(plan.warm.count) warm target(s) not warmed (no warmer in this build): \(plan.warm.joined(separator: " "))"
            }
        }
        let record = LedgerEventRecord(
            event: LedgerEvent(
                eventID: eventID, stream: deadLetter.stream, streamID: deadLetter.streamID, type: event.type,
                source: event.source,
                occurredAt: event.occurredAt.map { LedgerTimestamp(millisecondsSinceEpoch: $0.millisecondsSinceEpoch) }
                    ?? StreamEntryTime.of(deadLetter.streamID) ?? deadLetter.deadLetteredAt,
                receivedAt: startedAt, payload: String(decoding: event.payload, as: UTF8.self),
                metadata: Dictionary(
                    event.metadata.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }),
                traceparent: event.traceparent, status: .processed, attempts: deadLetter.attempts + 1,
                worker: operatorName,
                processedAt: finishedAt, duration: took, entriesRemoved: removed),
            outcomes: outcomes)
        _ = try await ledger.record(LedgerBatch(events: [record]))
        try await ledger.resolveDeadLetters(ids: [id], as: .retried, by: operatorName)
        let tagsNote =
            plan.tags.isEmpty
            ? (plan.matched ? "no tags" : "no rule for \(event.type)")
            : "invalidated \(plan.tags.joined(separator: ", "))"
        return DeadLetterRetryResult(
            id: id, eventID: eventID, outcome: .processed, detail: "recorded as processed: \(tagsNote)\(warmNote)",
            tags: plan.tags,
            streamID: nil)
    }
}

/// Stream entry ids carry their time.
enum StreamEntryTime {
    /// The time in `1700000000000-3`.
    static func of(_ streamID: String) -> LedgerTimestamp? {
        streamID.split(separator: "-").first.flatMap { Int64($0) }.map(LedgerTimestamp.init(millisecondsSinceEpoch:))
    }
}
