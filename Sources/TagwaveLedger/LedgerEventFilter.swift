/// Which events ``Ledger/events(filter:)`` returns. Every condition set must hold.
public struct LedgerEventFilter: Sendable, Hashable {
    /// Only events of this type.
    public var type: String?
    /// Only events that occurred at or after this time.
    public var since: LedgerTimestamp?
    /// Only events that occurred before this time.
    public var until: LedgerTimestamp?
    /// Only events with this status.
    public var status: LedgerEvent.Status?
    /// Only events that invalidated this tag.
    public var tag: String?
    /// At most this many events, newest first (by occurrence time). Default 100.
    public var limit: Int

    /// A filter; with no arguments, the newest 100 events.
    public init(
        type: String? = nil,
        since: LedgerTimestamp? = nil,
        until: LedgerTimestamp? = nil,
        status: LedgerEvent.Status? = nil,
        tag: String? = nil,
        limit: Int = 100
    ) {
        self.type = type
        self.since = since
        self.until = until
        self.status = status
        self.tag = tag
        self.limit = limit
    }
}
