/// What ``Ledger/record(_:)`` committed.
public struct LedgerCommit: Sendable, Hashable {
    /// Ids of the batch's events recorded now, in batch order.
    public var newEventIDs: [String]
    /// Ids of the batch's events the ledger already had (a redelivery, or twice in the batch):
    /// they, and their live outcomes, were not recorded again.
    public var alreadyRecordedEventIDs: [String]
    /// How many of the batch's dead letters were recorded; the others were already open.
    public var deadLettersRecorded: Int

    /// A commit summary.
    public init(newEventIDs: [String] = [], alreadyRecordedEventIDs: [String] = [], deadLettersRecorded: Int = 0) {
        self.newEventIDs = newEventIDs
        self.alreadyRecordedEventIDs = alreadyRecordedEventIDs
        self.deadLettersRecorded = deadLettersRecorded
    }
}
