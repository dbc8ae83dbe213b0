/// Where one consumer of one group is in one stream.
///
/// Recorded positions only move forward: recording an older id than the stored one keeps the
/// stored one, so batches committed out of order never move an offset back.
public struct LedgerOffset: Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// The consumer group.
    public var group: String
    /// The consumer (worker) name.
    public var consumer: String
    /// The newest entry id delivered to the consumer; nil leaves the stored one.
    public var lastDeliveredID: String?
    /// The newest entry id the consumer acknowledged; nil leaves the stored one.
    public var lastAckedID: String?
    /// When this position was observed.
    public var updatedAt: LedgerTimestamp

    /// A position; entry ids are `<milliseconds>-<sequence>`.
    public init(
        stream: String,
        group: String,
        consumer: String,
        lastDeliveredID: String? = nil,
        lastAckedID: String? = nil,
        updatedAt: LedgerTimestamp
    ) {
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.lastDeliveredID = lastDeliveredID
        self.lastAckedID = lastAckedID
        self.updatedAt = updatedAt
    }
}
