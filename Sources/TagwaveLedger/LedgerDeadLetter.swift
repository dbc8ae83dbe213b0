/// A stream entry that will not be handled without a person: why, and the raw entry to retry.
///
/// Poison entries (no `type`, a payload that is not a JSON object) are dead-lettered at once;
/// others after the delivery limit. An entry is open in the queue at most once: recording the
/// same stream entry again while it is open does nothing.
public struct LedgerDeadLetter: Sendable, Hashable {
    /// Where the dead letter stands.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// In the queue, waiting for an operator.
        case open
        /// Published again by an operator (`tagwave dlq retry`).
        case retried
        /// Removed by an operator (`tagwave dlq purge`).
        case purged
    }

    /// One field of the raw stream entry.
    public struct Field: Sendable, Hashable {
        /// The field name.
        public var name: String
        /// The field value (bytes that are not UTF-8 are kept as replacement characters).
        public var value: String

        /// A field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The ledger's id for this dead letter; nil until it is recorded.
    public var id: Int64?
    /// The producer's event id, or the stream entry id.
    public var eventID: String
    /// The stream the entry is in.
    public var stream: String
    /// The stream entry id, `<milliseconds>-<sequence>`.
    public var streamID: String
    /// The event type, when the entry had one.
    public var type: String?
    /// The raw entry's fields, in entry order.
    public var fields: [Field]
    /// A machine-readable reason, e.g. `poison.missing_type` or `delivery_limit`.
    public var reasonCode: String
    /// The reason as a sentence for people.
    public var reason: String
    /// How many deliveries were tried.
    public var attempts: Int
    /// When the first delivery failed, when known.
    public var firstFailedAt: LedgerTimestamp?
    /// When it was dead-lettered.
    public var deadLetteredAt: LedgerTimestamp
    /// The consumer that dead-lettered it.
    public var worker: String
    /// Where it stands.
    public var status: Status
    /// When an operator retried or purged it.
    public var resolvedAt: LedgerTimestamp?
    /// Who retried or purged it.
    public var resolvedBy: String?

    /// A dead letter; it starts ``Status/open``.
    public init(
        id: Int64? = nil,
        eventID: String,
        stream: String,
        streamID: String,
        type: String? = nil,
        fields: [Field],
        reasonCode: String,
        reason: String,
        attempts: Int,
        firstFailedAt: LedgerTimestamp? = nil,
        deadLetteredAt: LedgerTimestamp,
        worker: String,
        status: Status = .open,
        resolvedAt: LedgerTimestamp? = nil,
        resolvedBy: String? = nil
    ) {
        self.id = id
        self.eventID = eventID
        self.stream = stream
        self.streamID = streamID
        self.type = type
        self.fields = fields
        self.reasonCode = reasonCode
        self.reason = reason
        self.attempts = attempts
        self.firstFailedAt = firstFailedAt
        self.deadLetteredAt = deadLetteredAt
        self.worker = worker
        self.status = status
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
    }
}
