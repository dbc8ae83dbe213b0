/// A Redis Stream entry id, `<milliseconds>-<sequence>`, ordered as Redis orders them.
public struct StreamID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds part.
    public var milliseconds: UInt64
    /// Sequence part.
    public var sequence: UInt64

    /// The smallest id, `0-0`.
    public static let zero = StreamID(milliseconds: 0, sequence: 0)

    /// An id from its parts.
    public init(milliseconds: UInt64, sequence: UInt64) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1700000000000-3` (or `1700000000000`, sequence 0). Nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let ms = UInt64(parts[0]) else { return nil }
        let seq: UInt64
        if parts.count == 2 {
            guard let value = UInt64(parts[1]) else { return nil }
            seq = value
        } else {
            seq = 0
        }
        self.init(milliseconds: ms, sequence: seq)
    }

    /// The id right after this one (for exclusive range starts).
    public var next: StreamID {
        sequence == .max ? StreamID(milliseconds: milliseconds + 1, sequence: 0) : StreamID(milliseconds: milliseconds, sequence: sequence + 1)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// One entry read from a stream.
public struct StreamEntry: Sendable, Hashable {
    /// The entry id.
    public var id: StreamID
    /// Field/value pairs in the order written; nil when the entry was deleted or trimmed while it
    /// was pending (Redis answers such an `XREADGROUP` of history with nil fields).
    public var fields: [StreamField]?

    /// An entry from its id and fields.
    public init(id: StreamID, fields: [StreamField]?) {
        self.id = id
        self.fields = fields
    }

    /// The value of the first field named `name`.
    public func value(_ name: String) -> [UInt8]? {
        let key = Array(name.utf8)
        return fields?.first { $0.name == key }?.value
    }
}

/// A field of a stream entry: name and value, both bytes.
public struct StreamField: Sendable, Hashable {
    /// Field name.
    public var name: [UInt8]
    /// Field value.
    public var value: [UInt8]

    /// A field from bytes.
    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// A field from strings.
    public init(_ name: String, _ value: String) {
        self.init(name: Array(name.utf8), value: Array(value.utf8))
    }
}

/// A pending entry as `XPENDING … start end count` reports it.
public struct PendingEntry: Sendable, Hashable {
    /// The entry id.
    public var id: StreamID
    /// The consumer that holds it.
    public var consumer: String
    /// Milliseconds since it was last delivered.
    public var idleMilliseconds: Int64
    /// How often it was delivered.
    public var deliveries: Int64
}

/// The summary form of `XPENDING stream group`.
public struct PendingSummary: Sendable, Hashable {
    /// Entries pending in the group.
    public var count: Int64
    /// Lowest pending id.
    public var smallest: StreamID?
    /// Highest pending id.
    public var largest: StreamID?
    /// Pending count per consumer.
    public var consumers: [String: Int64]
}

/// What `XAUTOCLAIM` returns.
public struct AutoClaimResult: Sendable, Hashable {
    /// Where the next scan starts; `0-0` when the scan is complete.
    public var nextStart: StreamID
    /// Entries now owned by the claiming consumer.
    public var entries: [StreamEntry]
    /// Ids that were pending but are no longer in the stream (deleted or trimmed); Redis removed
    /// them from the pending list.
    public var deletedIDs: [StreamID]
}

/// `XINFO STREAM`, the fields Tagwave uses.
public struct StreamInfo: Sendable, Hashable {
    /// Entries in the stream.
    public var length: Int64
    /// Consumer groups on the stream.
    public var groups: Int64
    /// Newest id ever generated.
    public var lastGeneratedID: StreamID?
    /// Oldest entry's id.
    public var firstEntryID: StreamID?
}

/// `XINFO GROUPS`, one group.
public struct StreamGroupInfo: Sendable, Hashable {
    /// Group name.
    public var name: String
    /// Consumers in the group.
    public var consumers: Int64
    /// Entries delivered and not acknowledged.
    public var pending: Int64
    /// The last id delivered to the group.
    public var lastDeliveredID: StreamID?
    /// Entries not yet delivered to the group (Redis 7+); nil when Redis cannot tell.
    public var lag: Int64?
}

/// `XINFO CONSUMERS`, one consumer.
public struct StreamConsumerInfo: Sendable, Hashable {
    /// Consumer name.
    public var name: String
    /// Entries it holds, unacknowledged.
    public var pending: Int64
    /// Milliseconds since its last interaction.
    public var idleMilliseconds: Int64
}
