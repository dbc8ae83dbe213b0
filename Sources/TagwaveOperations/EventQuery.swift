import TagwaveLedger

/// The filters `tagwave events list|tail|export` share, as the operator gave them.
///
/// ```swift
/// let query = try EventQuery(types: ["session.created"], since: TimeExpression("2h"), status: "processed", limit: 20)
/// let events = try await EventBrowser(ledger: ledger).list(query)
/// ```
public struct EventQuery: Sendable, Hashable {
    /// Only events of these types; empty for all.
    public var types: [String]
    /// Only events from this producing service.
    public var source: String?
    /// Only events that occurred at or after this time.
    public var since: TimeExpression?
    /// Only events that occurred before this time.
    public var until: TimeExpression?
    /// Only events with this status.
    public var status: LedgerEvent.Status?
    /// Only events that invalidated this tag.
    public var tag: String?
    /// At most this many (list: newest first; export: the oldest first); nil for no limit.
    public var limit: Int?

    /// A query.
    /// - Throws: ``OperationsError`` (`invalidInput`) for an unknown status, naming the known ones.
    public init(
        types: [String] = [], source: String? = nil, since: TimeExpression? = nil, until: TimeExpression? = nil,
        status: String? = nil, tag: String? = nil, limit: Int? = nil
    ) throws {
        self.types = types
        self.source = source
        self.since = since
        self.until = until
        self.status = try status.map(Self.status(named:))
        self.tag = tag
        self.limit = limit
    }

    /// The ledger selection this query means at time `now` (durations are counted back from it).
    public func selection(now: LedgerTimestamp = .now()) -> LedgerEventSelection {
        LedgerEventSelection(
            types: types, source: source, since: since?.resolved(now: now), until: until?.resolved(now: now),
            statuses: status.map { [$0] } ?? [], tag: tag)
    }

    /// The status called `name` (`processed`, `dead_lettered`, `lost`, `skipped`).
    /// - Throws: ``OperationsError`` (`invalidInput`) naming the known ones.
    public static func status(named name: String) throws -> LedgerEvent.Status {
        guard let status = LedgerEvent.Status(rawValue: name) else {
            throw OperationsError(
                .invalidInput,
                "unknown status \(name): use one of \(LedgerEvent.Status.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return status
    }
}
