/// One event as the ledger records it: the envelope as published, and how it was handled.
///
/// The ledger keeps each ``eventID`` once, however often the event was delivered or replayed.
public struct LedgerEvent: Sendable, Hashable {
    /// How handling the event ended.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Every handler ran (some may have been skipped by their own rules).
        case processed
        /// It went to the dead-letter queue (see ``LedgerDeadLetter``).
        case deadLettered = "dead_lettered"
        /// Its stream entry was deleted or trimmed while it was pending: the fields are gone.
        case lost
        /// Deliberately not handled (no handler matched its type, or a replay filtered it out).
        case skipped
    }

    /// The producer's event id, or the stream entry id when the producer gave none.
    ///
    /// Entry ids are unique within one stream only: a worker reading several streams should
    /// make ids of id-less events unique across them (for example `stream/entry-id`).
    public var eventID: String
    /// The stream it was read from.
    public var stream: String
    /// Its stream entry id, `<milliseconds>-<sequence>`, e.g. `1700000000000-0`.
    public var streamID: String
    /// The dotted event type, e.g. `session.created`.
    public var type: String
    /// The producing service, when the producer named it.
    public var source: String?
    /// When it happened: the producer's `occurred_at`, else the time in its stream entry id.
    public var occurredAt: LedgerTimestamp
    /// When a worker read it.
    public var receivedAt: LedgerTimestamp
    /// The payload, a JSON object, as published.
    public var payload: String
    /// The entry's other fields (not part of the envelope), by name.
    public var metadata: [String: String]
    /// W3C trace context, when the producer sent one.
    public var traceparent: String?
    /// How handling ended.
    public var status: Status
    /// How many deliveries it took.
    public var attempts: Int
    /// The consumer that handled it.
    public var worker: String
    /// When handling finished.
    public var processedAt: LedgerTimestamp?
    /// How long all its handlers took together (stored in microseconds).
    public var duration: Duration?
    /// How many cache entries its invalidations removed, when known.
    public var entriesRemoved: Int?
    /// The last failure, for ``Status/deadLettered`` and ``Status/lost`` events.
    public var error: String?

    /// An event record; optional fields default to absent, ``attempts`` to 1.
    public init(
        eventID: String,
        stream: String,
        streamID: String,
        type: String,
        source: String? = nil,
        occurredAt: LedgerTimestamp,
        receivedAt: LedgerTimestamp,
        payload: String,
        metadata: [String: String] = [:],
        traceparent: String? = nil,
        status: Status,
        attempts: Int = 1,
        worker: String,
        processedAt: LedgerTimestamp? = nil,
        duration: Duration? = nil,
        entriesRemoved: Int? = nil,
        error: String? = nil
    ) {
        self.eventID = eventID
        self.stream = stream
        self.streamID = streamID
        self.type = type
        self.source = source
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.payload = payload
        self.metadata = metadata
        self.traceparent = traceparent
        self.status = status
        self.attempts = attempts
        self.worker = worker
        self.processedAt = processedAt
        self.duration = duration
        self.entriesRemoved = entriesRemoved
        self.error = error
    }
}
