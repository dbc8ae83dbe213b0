/// A domain event as it travels through the stream: the envelope of SPEC §3.
///
/// One stream entry per event, with the fields `type` (required, dotted, e.g. `session.created`),
/// `payload` (required, a JSON object), and the optional `id`, `occurred_at`, `source` and
/// `traceparent`; every other field is kept as ``metadata``. Any language can publish one with a
/// plain `XADD`:
///
/// ```
/// XADD events * type session.created payload {"teacherId":"t1","schoolId":"s1"} source api
/// ```
///
/// Decode entries with `decode(fields:maxPayloadBytes:)`;
/// publish with ``encodeFields()``.
public struct Event: Sendable, Equatable {
    /// The dotted event type, e.g. `session.created`.
    public var type: String
    /// The payload: the raw bytes of a JSON object, exactly as received or to be sent.
    public var payload: [UInt8]
    /// The producer's event id, used for idempotency; nil means "use the stream entry id".
    public var id: String?
    /// When the event happened, according to the producer.
    public var occurredAt: EventTime?
    /// The producing service.
    public var source: String?
    /// The W3C trace context (`00-<trace id>-<parent id>-<flags>`), carried into logs and the ledger.
    public var traceparent: String?
    /// Every other field of the entry, in entry order.
    public var metadata: [(name: String, value: String)]

    /// Makes an event from a payload already serialized as a JSON object.
    ///
    /// Nothing is checked here; ``validate(maxPayloadBytes:)`` applies the rules a worker applies.
    ///
    /// - Parameters:
    ///   - type: The dotted event type, e.g. `session.created`.
    ///   - payload: The UTF-8 bytes of a JSON object.
    ///   - id: The producer's event id, for idempotency.
    ///   - occurredAt: When the event happened.
    ///   - source: The producing service.
    ///   - traceparent: The W3C trace context.
    ///   - metadata: Further fields, published after the envelope's own.
    public init(
        type: String,
        payload: [UInt8],
        id: String? = nil,
        occurredAt: EventTime? = nil,
        source: String? = nil,
        traceparent: String? = nil,
        metadata: [(name: String, value: String)] = []
    ) {
        self.type = type
        self.payload = payload
        self.id = id
        self.occurredAt = occurredAt
        self.source = source
        self.traceparent = traceparent
        self.metadata = metadata
    }

    /// Makes an event whose payload is a ``JSONValue``, serialized compactly.
    ///
    /// - Parameters:
    ///   - type: The dotted event type, e.g. `session.created`.
    ///   - payload: The payload; an ``JSONValue/object(_:)`` for the event to be valid.
    ///   - id: The producer's event id, for idempotency.
    ///   - occurredAt: When the event happened.
    ///   - source: The producing service.
    ///   - traceparent: The W3C trace context.
    ///   - metadata: Further fields, published after the envelope's own.
    public init(
        type: String,
        payload: JSONValue,
        id: String? = nil,
        occurredAt: EventTime? = nil,
        source: String? = nil,
        traceparent: String? = nil,
        metadata: [(name: String, value: String)] = []
    ) {
        self.init(
            type: type, payload: payload.serializedBytes(), id: id, occurredAt: occurredAt, source: source,
            traceparent: traceparent, metadata: metadata)
    }

    /// Events are equal when all their fields are, metadata in the same order.
    public static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.type == rhs.type && lhs.payload == rhs.payload && lhs.id == rhs.id && lhs.occurredAt == rhs.occurredAt
            && lhs.source == rhs.source && lhs.traceparent == rhs.traceparent
            && lhs.metadata.elementsEqual(rhs.metadata, by: { $0.name == $1.name && $0.value == $1.value })
    }
}
