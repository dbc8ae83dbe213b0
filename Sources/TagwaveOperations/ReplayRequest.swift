import TagwaveLedger

/// One kind of work a replay can be limited to (`tagwave replay --only`).
public enum ReplayWork: String, Sendable, Hashable, CaseIterable {
    /// Invalidate the tags the rules name (e.g. after a worker bug skipped invalidations).
    case invalidate
    /// Warm the targets the rules name (e.g. re-warm after a cache flush without invalidating again).
    case warm
}

/// What an operator asked `tagwave replay` to replay: a time range, a stream entry id range, event
/// types, a single event, or everything; optionally limited to one kind of work, or only printed.
///
/// Only events the workers handled (`processed`, or `skipped` for want of a rule) are replayed: lost
/// events have no payload, and dead letters are retried with `tagwave dlq retry`.
///
/// ```swift
/// let request = try ReplayRequest(since: TimeExpression("2h"), types: ["session.created"], dryRun: true)
/// request.canonical   // "--since 2h --type session.created"
/// ```
public struct ReplayRequest: Sendable, Hashable {
    /// From this occurrence time (inclusive).
    public var since: TimeExpression?
    /// To this occurrence time (exclusive).
    public var until: TimeExpression?
    /// From this stream entry id (inclusive).
    public var fromStreamID: String?
    /// To this stream entry id (inclusive).
    public var toStreamID: String?
    /// Only these event types; empty for all.
    public var types: [String]
    /// Only this event.
    public var eventID: String?
    /// Every event in the ledger (must be asked for explicitly).
    public var everything: Bool
    /// Only this kind of work; nil for all the rules do.
    public var only: ReplayWork?
    /// Print what would be done; change nothing in Redis.
    public var dryRun: Bool

    /// A request.
    /// - Throws: ``OperationsError`` (`usage`) when it selects nothing explicitly: replaying the whole
    ///   ledger by accident is not possible, ask with `everything`.
    public init(
        since: TimeExpression? = nil, until: TimeExpression? = nil, fromStreamID: String? = nil,
        toStreamID: String? = nil,
        types: [String] = [], eventID: String? = nil, everything: Bool = false, only: ReplayWork? = nil,
        dryRun: Bool = false
    ) throws {
        self.since = since
        self.until = until
        self.fromStreamID = fromStreamID
        self.toStreamID = toStreamID
        self.types = types
        self.eventID = eventID
        self.everything = everything
        self.only = only
        self.dryRun = dryRun
        let selects =
            since != nil || until != nil || fromStreamID != nil || toStreamID != nil || !types.isEmpty || eventID != nil
        guard selects || everything else {
            throw OperationsError(
                .usage,
                "say what to replay: --since/--until (e.g. --since 2h), --from-id/--to-id, --type, --id, or --all for the whole ledger"
            )
        }
    }

    /// The request as options, in a fixed order (types sorted): the identity of a replay run, so that
    /// running the same request again continues an unfinished run.
    public var canonical: String {
        var parts: [String] = []
        if everything { parts.append("--all") }
        if let since { parts.append("--since \(since)") }
        if let until { parts.append("--until \(until)") }
        if let fromStreamID { parts.append("--from-id \(fromStreamID)") }
        if let toStreamID { parts.append("--to-id \(toStreamID)") }
        for type in Set(types).sorted() { parts.append("--type \(type)") }
        if let eventID { parts.append("--id \(eventID)") }
        return parts.joined(separator: " ")
    }

    /// The kinds of work it is limited to, as the ledger stores them; nil for all.
    var onlyNames: [String]? { only.map { [$0.rawValue] } }

    /// The events it means at `now`, closed at `throughSeq`.
    func selection(now: LedgerTimestamp, throughSeq: Int64) -> LedgerEventSelection {
        LedgerEventSelection(
            types: Set(types).sorted(), since: since?.resolved(now: now), until: until?.resolved(now: now),
            statuses: [.processed, .skipped], eventID: eventID, fromStreamID: fromStreamID, toStreamID: toStreamID,
            throughSeq: throughSeq)
    }
}
