import TagwaveSQLite

/// Which events the operator's tools read (`tagwave events list|tail|export`, `tagwave replay`):
/// every condition set must hold.
///
/// A superset of ``LedgerEventFilter``: several types, the producing service, several statuses, a
/// stream entry id range, a single event id, and a window of recording order (`seq`) for paging,
/// following and resuming.
///
/// ```swift
/// let lastHour = LedgerEventSelection(types: ["session.created"], since: .now().advanced(by: .seconds(-3600)))
/// let page = try await ledger.events(matching: lastHour, order: .recording, limit: 500)
/// ```
public struct LedgerEventSelection: Sendable, Hashable {
    /// Only events of one of these types; empty for every type.
    public var types: [String]
    /// Only events published by this service (`source`).
    public var source: String?
    /// Only events that occurred at or after this time.
    public var since: LedgerTimestamp?
    /// Only events that occurred before this time.
    public var until: LedgerTimestamp?
    /// Only events with one of these statuses; empty for every status.
    public var statuses: [LedgerEvent.Status]
    /// Only events that invalidated this tag.
    public var tag: String?
    /// Only the event with this id.
    public var eventID: String?
    /// Only events whose stream entry id is at or after this one (`1700000000000-0`, or `1700000000000`).
    public var fromStreamID: String?
    /// Only events whose stream entry id is at or before this one.
    public var toStreamID: String?
    /// Only events recorded after this ledger sequence number (exclusive): paging, following, resuming.
    public var afterSeq: Int64?
    /// Only events recorded at or before this ledger sequence number: a range fixed when a replay started.
    public var throughSeq: Int64?

    /// A selection; with no arguments, every event.
    public init(
        types: [String] = [],
        source: String? = nil,
        since: LedgerTimestamp? = nil,
        until: LedgerTimestamp? = nil,
        statuses: [LedgerEvent.Status] = [],
        tag: String? = nil,
        eventID: String? = nil,
        fromStreamID: String? = nil,
        toStreamID: String? = nil,
        afterSeq: Int64? = nil,
        throughSeq: Int64? = nil
    ) {
        self.types = types
        self.source = source
        self.since = since
        self.until = until
        self.statuses = statuses
        self.tag = tag
        self.eventID = eventID
        self.fromStreamID = fromStreamID
        self.toStreamID = toStreamID
        self.afterSeq = afterSeq
        self.throughSeq = throughSeq
    }
}

/// The order ``Ledger/events(matching:order:limit:withOutcomes:)`` returns events in.
public enum LedgerEventOrder: Sendable, Hashable {
    /// Newest first by occurrence time (then by recording order): what a person scanning history wants.
    case newestFirst
    /// Recording order (`seq` ascending): for exports, tails and replays that page with ``LedgerEventSelection/afterSeq``.
    case recording
}

/// An event with its place in the ledger's recording order and, when asked for, its outcomes.
public struct LedgerSequencedEvent: Sendable, Hashable {
    /// The ledger's sequence number: recording order, unique, never reused while the event is kept.
    public var seq: Int64
    /// The event.
    public var event: LedgerEvent
    /// Its handler outcomes in recording order (live ones first, then replays'); empty when not asked for.
    public var outcomes: [LedgerHandlerOutcome]

    /// An event at `seq`.
    public init(seq: Int64, event: LedgerEvent, outcomes: [LedgerHandlerOutcome] = []) {
        self.seq = seq
        self.event = event
        self.outcomes = outcomes
    }
}

/// Everything the ledger knows about one event: what `tagwave events show` prints.
public struct LedgerEventDetail: Sendable, Hashable {
    /// The event, its sequence number and every outcome (live and replayed).
    public var record: LedgerSequencedEvent
    /// The warm jobs it scheduled, oldest first.
    public var warmJobs: [LedgerWarmJob]
    /// Dead letters of the same event (by id, or by stream entry for a poison entry whose id never
    /// decoded): an earlier failed version of it, since retried. Newest first.
    public var deadLetters: [LedgerDeadLetter]

    /// A detail.
    public init(record: LedgerSequencedEvent, warmJobs: [LedgerWarmJob] = [], deadLetters: [LedgerDeadLetter] = []) {
        self.record = record
        self.warmJobs = warmJobs
        self.deadLetters = deadLetters
    }
}

extension Ledger {
    /// Events matching `selection`, in `order`, at most `limit`.
    ///
    /// Page through a large selection in recording order by passing the last `seq` seen as the next
    /// page's ``LedgerEventSelection/afterSeq``; each page is one indexed query.
    ///
    /// - Parameters:
    ///   - selection: which events.
    ///   - order: newest first (by occurrence time) or recording order.
    ///   - limit: at most this many.
    ///   - withOutcomes: read each event's handler outcomes too.
    /// - Throws: ``LedgerError``: `invalidInput` for a malformed stream entry id in the selection.
    public func events(
        matching selection: LedgerEventSelection,
        order: LedgerEventOrder = .newestFirst,
        limit: Int = 100,
        withOutcomes: Bool = false
    ) async throws -> [LedgerSequencedEvent] {
        try await withDatabase { [path] database in
            let condition = try LedgerSelectionSQL(selection, path: path)
            return try database.transaction(.deferred) {
                let reader = LedgerReader(path: path)
                var events =
                    switch order {
                    case .newestFirst: try condition.newestFirst(limit: limit, in: database, reader: reader)
                    case .recording: try condition.inRecordingOrder(limit: limit, in: database, reader: reader)
                    }
                if withOutcomes {
                    for index in events.indices {
                        events[index].outcomes = try reader.outcomes(ofEvent: events[index].seq, in: database)
                    }
                }
                return events
            }
        }
    }

    /// How many events match `selection`.
    ///
    /// - Throws: ``LedgerError``.
    public func countEvents(matching selection: LedgerEventSelection) async throws -> Int {
        try await withDatabase { [path] database in
            let condition = try LedgerSelectionSQL(selection, path: path)
            let select = try database.cachedStatement("SELECT count(*) \(condition.fromWhere)")
            try condition.bind(to: select)
            guard try select.step() == .row else { return 0 }
            return select.int(at: 0)
        }
    }

    /// The newest recording sequence number, 0 for an empty ledger: where `tagwave events tail`
    /// starts following, and where a replay's range ends.
    ///
    /// - Throws: ``LedgerError``.
    public func latestSeq() async throws -> Int64 {
        try await withDatabase { database in
            let select = try database.cachedStatement("SELECT coalesce(max(seq), 0) FROM events")
            guard try select.step() == .row else { return 0 }
            return select.int64(at: 0)
        }
    }

    /// The event with id `eventID` with its outcomes, warm jobs and dead-letter history; nil when it
    /// is not recorded.
    ///
    /// - Throws: ``LedgerError``.
    public func eventDetail(id eventID: String) async throws -> LedgerEventDetail? {
        try await withDatabase { [path] database in
            try database.transaction(.deferred) {
                let select = try database.cachedStatement(
                    "SELECT e.seq, \(LedgerReader.eventColumns) FROM events e WHERE e.event_id = ?"
                )
                try select.bind(eventID, at: 1)
                guard try select.step() == .row else { return nil }
                let reader = LedgerReader(path: path)
                let seq = select.int64(at: 0)
                let event = try reader.event(from: select, startingAt: 1)
                try select.reset()
                let record = LedgerSequencedEvent(
                    seq: seq, event: event, outcomes: try reader.outcomes(ofEvent: seq, in: database))
                // A poison entry is dead-lettered under its stream entry id (its own id was never decoded).
                var deadLetters = try LedgerDeadLetterQuery.deadLetters(
                    LedgerDeadLetterFilter(status: nil, eventID: eventID), in: database, reader: reader)
                if event.streamID != eventID {
                    deadLetters += try LedgerDeadLetterQuery.deadLetters(
                        LedgerDeadLetterFilter(status: nil, eventID: event.streamID), in: database, reader: reader
                    ).filter { $0.stream == event.stream }
                }
                return LedgerEventDetail(
                    record: record,
                    warmJobs: try LedgerWarmJobReader(path: path).jobs(ofEventSeq: seq, in: database),
                    deadLetters: deadLetters.sorted {
                        ($0.deadLetteredAt, $0.id ?? 0) > ($1.deadLetteredAt, $1.id ?? 0)
                    }
                )
            }
        }
    }
}
