/// Everything one worker batch commits to the ledger, in one transaction.
///
/// The worker acknowledges the batch's stream entries only after ``Ledger/record(_:)`` returns.
public struct LedgerBatch: Sendable, Hashable {
    /// Handled events with their outcomes and tags.
    public var events: [LedgerEventRecord]
    /// Entries sent to the dead-letter queue.
    public var deadLetters: [LedgerDeadLetter]
    /// Consumer positions reached.
    public var offsets: [LedgerOffset]

    /// A batch; every part defaults to empty.
    public init(
        events: [LedgerEventRecord] = [],
        deadLetters: [LedgerDeadLetter] = [],
        offsets: [LedgerOffset] = []
    ) {
        self.events = events
        self.deadLetters = deadLetters
        self.offsets = offsets
    }

    /// True when there is nothing to record.
    public var isEmpty: Bool {
        events.isEmpty && deadLetters.isEmpty && offsets.isEmpty
    }
}
