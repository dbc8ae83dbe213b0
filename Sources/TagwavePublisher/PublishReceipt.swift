import TagwaveRedis

/// What became of one published event: its id, and whether it is in the stream or in the spool.
public struct PublishReceipt: Sendable, Hashable {
    /// Where the event is now.
    public enum Outcome: Sendable, Hashable {
        /// Appended to the stream under this entry id.
        case delivered(StreamID)
        /// Stored in the spool (committed to disk) under this sequence number, to be appended to the
        /// stream, in order, by a later ``Publisher/drain()``.
        case spooled(sequence: Int64)
    }

    /// The event's `id` field: the producer's, or the time-ordered one the publisher generated.
    /// The worker deduplicates by it, so an event delivered twice is handled once.
    public var eventID: String
    /// Where the event is now.
    public var outcome: Outcome

    /// A receipt from its parts.
    ///
    /// - Parameters:
    ///   - eventID: The event's id.
    ///   - outcome: Where the event is.
    public init(eventID: String, outcome: Outcome) {
        self.eventID = eventID
        self.outcome = outcome
    }

    /// The stream entry id when the event was delivered; nil when it was spooled.
    public var streamID: StreamID? {
        if case .delivered(let id) = outcome { return id }
        return nil
    }

    /// The spool sequence number when the event was spooled; nil when it was delivered.
    public var spoolSequence: Int64? {
        if case .spooled(let sequence) = outcome { return sequence }
        return nil
    }
}
