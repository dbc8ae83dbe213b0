/// One time an event invalidated a tag: an answer to "which events touched tag X".
public struct LedgerTagTouch: Sendable, Hashable {
    /// The tag.
    public var tag: String
    /// When it was invalidated (its handler's finish time).
    public var invalidatedAt: LedgerTimestamp
    /// How many entries that invalidation removed, when known.
    public var entriesRemoved: Int?
    /// The handler that invalidated it.
    public var handler: String
    /// The consumer that ran the handler.
    public var worker: String
    /// The replay run, when it was a replay; nil for a live delivery.
    public var replayRunID: Int64?
    /// The event.
    public var event: LedgerEvent

    /// A tag touch.
    public init(
        tag: String,
        invalidatedAt: LedgerTimestamp,
        entriesRemoved: Int?,
        handler: String,
        worker: String,
        replayRunID: Int64?,
        event: LedgerEvent
    ) {
        self.tag = tag
        self.invalidatedAt = invalidatedAt
        self.entriesRemoved = entriesRemoved
        self.handler = handler
        self.worker = worker
        self.replayRunID = replayRunID
        self.event = event
    }
}
