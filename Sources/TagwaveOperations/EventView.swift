import TagwaveLedger

/// An event as `tagwave events … --json` prints it, and as `events export --format jsonl` writes
/// one per line. Times are RFC 3339 with milliseconds (UTC); durations are milliseconds.
public struct EventView: Sendable, Hashable, Encodable {
    /// The ledger's recording sequence number.
    public var seq: Int64
    /// The event id (the producer's `id`, else the stream entry id).
    public var id: String
    /// The stream.
    public var stream: String
    /// The stream entry id.
    public var streamID: String
    /// The event type.
    public var type: String
    /// The producing service.
    public var source: String?
    /// When it occurred (RFC 3339).
    public var occurredAt: String
    /// When a worker read it (RFC 3339).
    public var receivedAt: String
    /// The payload as the JSON object it is.
    public var payload: JSONPayload
    /// The entry's other fields.
    public var metadata: [String: String]
    /// W3C trace context.
    public var traceparent: String?
    /// `processed`, `dead_lettered`, `lost` or `skipped`.
    public var status: String
    /// Deliveries it took.
    public var attempts: Int
    /// The consumer that handled it.
    public var worker: String
    /// When handling finished (RFC 3339).
    public var processedAt: String?
    /// How long it took, in milliseconds.
    public var durationMs: Double?
    /// Cache entries removed.
    public var entriesRemoved: Int?
    /// Why it failed.
    public var error: String?
    /// Every tag its outcomes invalidated, in first-seen order (only when outcomes were read).
    public var tags: [String]?
    /// Its handler outcomes, live then replayed (only when read).
    public var outcomes: [OutcomeView]?

    /// The view of `record`; `withOutcomes` includes ``tags`` and ``outcomes``.
    public init(_ record: LedgerSequencedEvent, withOutcomes: Bool) {
        let event = record.event
        seq = record.seq
        id = event.eventID
        stream = event.stream
        streamID = event.streamID
        type = event.type
        source = event.source
        occurredAt = event.occurredAt.description
        receivedAt = event.receivedAt.description
        payload = JSONPayload(event.payload)
        metadata = event.metadata
        traceparent = event.traceparent
        status = event.status.rawValue
        attempts = event.attempts
        worker = event.worker
        processedAt = event.processedAt?.description
        durationMs = event.duration.map(Milliseconds.of)
        entriesRemoved = event.entriesRemoved
        error = event.error
        if withOutcomes {
            outcomes = record.outcomes.map(OutcomeView.init)
            var seen = Set<String>()
            tags = record.outcomes.flatMap(\.invalidatedTags).map(\.tag).filter { seen.insert($0).inserted }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(id, forKey: .id)
        try container.encode(stream, forKey: .stream)
        try container.encode(streamID, forKey: .streamID)
        try container.encode(type, forKey: .type)
        try container.encode(source, forKey: .source)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(receivedAt, forKey: .receivedAt)
        try container.encode(payload, forKey: .payload)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(traceparent, forKey: .traceparent)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(worker, forKey: .worker)
        try container.encode(processedAt, forKey: .processedAt)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(entriesRemoved, forKey: .entriesRemoved)
        try container.encode(error, forKey: .error)
        try container.encodeIfPresent(tags, forKey: .tags)
        try container.encodeIfPresent(outcomes, forKey: .outcomes)
    }

    enum CodingKeys: String, CodingKey {
        case seq, id, stream, streamID, type, source, occurredAt, receivedAt, payload, metadata, traceparent, status,
            attempts
        case worker, processedAt, durationMs, entriesRemoved, error, tags, outcomes
    }
}

/// One handler outcome in `--json` output.
public struct OutcomeView: Sendable, Hashable, Encodable {
    /// One invalidated tag.
    public struct Tag: Sendable, Hashable, Encodable {
        /// The tag.
        public var tag: String
        /// Cache entries removed.
        public var entriesRemoved: Int?
    }

    /// The handler (rule set or closure) name.
    public var handler: String
    /// `invalidate`, `warm` or `closure`.
    public var kind: String
    /// `succeeded`, `failed` or `skipped`.
    public var status: String
    /// Deliveries or attempts.
    public var attempts: Int
    /// Cache entries removed.
    public var entriesRemoved: Int?
    /// How long it took, in milliseconds.
    public var durationMs: Double?
    /// The consumer (or operator) that did it.
    public var worker: String
    /// Why it failed.
    public var error: String?
    /// When it started (RFC 3339).
    public var startedAt: String
    /// When it finished (RFC 3339).
    public var finishedAt: String
    /// The replay run that recorded it; null for live handling.
    public var replayRunID: Int64?
    /// The tags invalidated.
    public var tags: [Tag]

    /// The view of `outcome`.
    public init(_ outcome: LedgerHandlerOutcome) {
        handler = outcome.handler
        kind = outcome.kind.rawValue
        status = outcome.status.rawValue
        attempts = outcome.attempts
        entriesRemoved = outcome.entriesRemoved
        durationMs = outcome.duration.map(Milliseconds.of)
        worker = outcome.worker
        error = outcome.error
        startedAt = outcome.startedAt.description
        finishedAt = outcome.finishedAt.description
        replayRunID = outcome.replayRunID
        tags = outcome.invalidatedTags.map { Tag(tag: $0.tag, entriesRemoved: $0.entriesRemoved) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(handler, forKey: .handler)
        try container.encode(kind, forKey: .kind)
        try container.encode(status, forKey: .status)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(entriesRemoved, forKey: .entriesRemoved)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(worker, forKey: .worker)
        try container.encode(error, forKey: .error)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(replayRunID, forKey: .replayRunID)
        try container.encode(tags, forKey: .tags)
    }

    enum CodingKeys: String, CodingKey {
        case handler, kind, status, attempts, entriesRemoved, durationMs, worker, error, startedAt, finishedAt,
            replayRunID, tags
    }
}

/// A dead letter in `--json` output.
public struct DeadLetterView: Sendable, Hashable, Encodable {
    /// One field of the raw stream entry.
    public struct Field: Sendable, Hashable, Encodable {
        /// The field name.
        public var name: String
        /// The field value.
        public var value: String
    }

    /// The ledger id.
    public var id: Int64?
    /// The event id.
    public var eventID: String
    /// The stream.
    public var stream: String
    /// The stream entry id.
    public var streamID: String
    /// The event type.
    public var type: String?
    /// The raw entry, in order: what `dlq retry` re-runs or re-publishes.
    public var fields: [Field]
    /// The machine-readable reason.
    public var reasonCode: String
    /// The reason, for people.
    public var reason: String
    /// Deliveries or attempts.
    public var attempts: Int
    /// When the first delivery failed (RFC 3339).
    public var firstFailedAt: String?
    /// When it was dead-lettered (RFC 3339).
    public var deadLetteredAt: String
    /// The consumer (or operator) that did it.
    public var worker: String
    /// `open`, `retried` or `purged`.
    public var status: String
    /// When it was retried or purged (RFC 3339).
    public var resolvedAt: String?
    /// Who retried or purged it.
    public var resolvedBy: String?

    /// The view of `deadLetter`.
    public init(_ deadLetter: LedgerDeadLetter) {
        id = deadLetter.id
        eventID = deadLetter.eventID
        stream = deadLetter.stream
        streamID = deadLetter.streamID
        type = deadLetter.type
        fields = deadLetter.fields.map { Field(name: $0.name, value: $0.value) }
        reasonCode = deadLetter.reasonCode
        reason = deadLetter.reason
        attempts = deadLetter.attempts
        firstFailedAt = deadLetter.firstFailedAt?.description
        deadLetteredAt = deadLetter.deadLetteredAt.description
        worker = deadLetter.worker
        status = deadLetter.status.rawValue
        resolvedAt = deadLetter.resolvedAt?.description
        resolvedBy = deadLetter.resolvedBy
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(stream, forKey: .stream)
        try container.encode(streamID, forKey: .streamID)
        try container.encode(type, forKey: .type)
        try container.encode(fields, forKey: .fields)
        try container.encode(reasonCode, forKey: .reasonCode)
        try container.encode(reason, forKey: .reason)
        try container.encode(attempts, forKey: .attempts)
        try container.encode(firstFailedAt, forKey: .firstFailedAt)
        try container.encode(deadLetteredAt, forKey: .deadLetteredAt)
        try container.encode(worker, forKey: .worker)
        try container.encode(status, forKey: .status)
        try container.encode(resolvedAt, forKey: .resolvedAt)
        try container.encode(resolvedBy, forKey: .resolvedBy)
    }

    enum CodingKeys: String, CodingKey {
        case id, eventID, stream, streamID, type, fields, reasonCode, reason, attempts, firstFailedAt, deadLetteredAt,
            worker
        case status, resolvedAt, resolvedBy
    }
}

/// A replay run in `--json` output.
public struct ReplayRunView: Sendable, Hashable, Encodable {
    /// The ledger id.
    public var id: Int64
    /// How it was asked for, e.g. `--since 2h --type session.created`.
    public var request: String
    /// `running`, `completed`, `interrupted` or `failed`.
    public var status: String
    /// True for a dry run.
    public var dryRun: Bool
    /// The kinds of work it was limited to; null for all.
    public var only: [String]?
    /// When it started (RFC 3339).
    public var startedAt: String
    /// When it finished (RFC 3339).
    public var finishedAt: String?
    /// Events selected.
    public var eventsTotal: Int?
    /// Events replayed so far.
    public var eventsDone: Int
    /// The last finished event's ledger sequence number.
    public var lastEventSeq: Int64?
    /// Who ran it.
    public var operatorName: String?
    /// Why it failed.
    public var error: String?

    /// The view of `run`.
    public init(_ run: LedgerReplayRun) {
        id = run.id
        request = run.request
        status = run.status.rawValue
        dryRun = run.dryRun
        only = run.only
        startedAt = run.startedAt.description
        finishedAt = run.finishedAt?.description
        eventsTotal = run.eventsTotal
        eventsDone = run.eventsDone
        lastEventSeq = run.lastEventSeq
        operatorName = run.operatorName
        error = run.error
    }
}

/// Durations as milliseconds with microsecond precision, for JSON and tables.
enum Milliseconds {
    static func of(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds / 1_000_000_000_000) / 1000
    }
}
