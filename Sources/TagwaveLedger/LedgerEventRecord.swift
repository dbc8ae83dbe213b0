/// An event with what its handlers did: the unit ``Ledger/record(_:)`` writes and
/// ``Ledger/event(id:)`` reads back.
public struct LedgerEventRecord: Sendable, Hashable {
    /// The event.
    public var event: LedgerEvent
    /// Its handler outcomes, in the order they were recorded.
    public var outcomes: [LedgerHandlerOutcome]

    /// An event and its outcomes.
    public init(event: LedgerEvent, outcomes: [LedgerHandlerOutcome] = []) {
        self.event = event
        self.outcomes = outcomes
    }
}
