import TagwaveSQLite

/// A ``LedgerEventSelection`` as SQL on `events e`, with its parameters in order, and the two
/// orders it is read in.
///
/// When an event occurred is indexed per block of events (`event_blocks`, migration 0005), not per
/// event: a time bound picks the blocks whose time span meets it, then reads their events by seq.
struct LedgerSelectionSQL {
    enum Value {
        case text(String)
        case integer(Int64)
    }

    /// Conditions on `events e`, and their parameters in order.
    private var conditions: [String] = []
    private var values: [Value] = []
    /// Conditions every block holding a selected event meets, on `event_blocks b`.
    private var blockConditions: [String] = []
    private var blockValues: [Value] = []
    /// Whether the selection bounds the time events occurred.
    private var hasTimeBound = false
    /// Whether an index finds the selected events by itself: a tag or an event id.
    private var isNarrow = false

    /// From this limit up, ``newestFirst(limit:in:reader:)`` sorts the whole selection at once
    /// rather than merging block after block.
    static let largeLimit = 10_000

    init(_ selection: LedgerEventSelection, path: String) throws {
        if !selection.types.isEmpty {
            add(
                "e.type IN (\(Array(repeating: "?", count: selection.types.count).joined(separator: ", ")))",
                selection.types.map(Value.text))
        }
        if let source = selection.source { add("e.source = ?", [.text(source)]) }
        if let since = selection.since {
            add("e.occurred_at_ms >= ?", [.integer(since.millisecondsSinceEpoch)])
            addBlock("b.last_occurred_at_ms >= ?", .integer(since.millisecondsSinceEpoch))
            hasTimeBound = true
        }
        if let until = selection.until {
            add("e.occurred_at_ms < ?", [.integer(until.millisecondsSinceEpoch)])
            addBlock("b.first_occurred_at_ms < ?", .integer(until.millisecondsSinceEpoch))
            hasTimeBound = true
        }
        if !selection.statuses.isEmpty {
            // `a = ? OR b = ?` rather than IN: see the conventions in migrations/0001_initial.sql.
            add(
                "(" + selection.statuses.map { _ in "e.status = ?" }.joined(separator: " OR ") + ")",
                selection.statuses.map { .text($0.rawValue) })
        }
        if let eventID = selection.eventID {
            add("e.event_id = ?", [.text(eventID)])
            isNarrow = true
        }
        if let from = selection.fromStreamID {
            let position = try Self.position(from, path: path)
            add(
                "(e.stream_ms, e.stream_seq) >= (?, ?)", [.integer(position.milliseconds), .integer(position.sequence)])
        }
        if let to = selection.toStreamID {
            let position = try Self.position(to, path: path)
            // `1700000000000` alone means every entry of that millisecond.
            let sequence = to.contains("-") ? position.sequence : Int64.max
            add("(e.stream_ms, e.stream_seq) <= (?, ?)", [.integer(position.milliseconds), .integer(sequence)])
        }
        if let after = selection.afterSeq {
            add("e.seq > ?", [.integer(after)])
            addBlock("b.last_seq > ?", .integer(after))
        }
        if let through = selection.throughSeq {
            add("e.seq <= ?", [.integer(through)])
            addBlock("b.first_seq <= ?", .integer(through))
        }
        if let tag = selection.tag {
            let query = LedgerTagSearch.query(tag)
            add(
                "e.seq IN (\(LedgerTagSearch.eventsWithTag(query: "?", needle: "?")))",
                [.text(query), .text(LedgerTagSearch.needle(tag)), .text(query)])
            isNarrow = true
        }
    }

    private mutating func add(_ condition: String, _ parameters: [Value]) {
        conditions.append(condition)
        values += parameters
    }

    private mutating func addBlock(_ condition: String, _ parameter: Value) {
        blockConditions.append(condition)
        blockValues.append(parameter)
    }

    /// Whether ``fromWhere`` reads the blocks meeting the time bound, then their events.
    private var readsBlocks: Bool { hasTimeBound && !isNarrow }

    /// `FROM … WHERE …` of the selected events.
    var fromWhere: String {
        if readsBlocks {
            return "FROM event_blocks b JOIN events e ON e.seq BETWEEN b.first_seq AND b.last_seq WHERE "
                + (blockConditions + conditions).joined(separator: " AND ")
        }
        return "FROM events e" + Self.whereClause(conditions)
    }

    /// Binds the parameters of ``fromWhere``.
    func bind(to statement: SQLiteStatement) throws {
        try Self.bind(fromWhereValues, to: statement)
    }

    private var fromWhereValues: [Value] { readsBlocks ? blockValues + values : values }

    /// The selected events in recording order (`seq`), at most `limit`.
    func inRecordingOrder(limit: Int, in database: SQLiteDatabase, reader: LedgerReader) throws -> [LedgerSequencedEvent] {
        // Blocks do not overlap: block by block, their events come in recording order without a sort.
        let order = readsBlocks ? "ORDER BY b.first_seq, e.seq" : "ORDER BY e.seq"
        return try Self.read(
            "SELECT e.seq, \(LedgerReader.eventColumns) \(fromWhere) \(order) LIMIT ?", fromWhereValues, limit: limit,
            in: database, reader: reader)
    }

    /// The selected events newest first by occurrence time (ties in one millisecond by type, then
    /// seq, descending), at most `limit`.
    ///
    /// A tag or an event id finds its events through an index, and they are sorted. Otherwise the
    /// blocks are read newest first by the latest time among their events, and each block's newest
    /// events merged into the answer, until no block left holds an event newer than the `limit`-th
    /// so far: "the newest 50 events" reads a block or two however long the history.
    func newestFirst(limit: Int, in database: SQLiteDatabase, reader: LedgerReader) throws -> [LedgerSequencedEvent] {
        guard limit > 0 else { return [] }
        let ordering = "ORDER BY e.occurred_at_ms DESC, e.type DESC, e.seq DESC"
        if isNarrow || limit >= Self.largeLimit {
            return try Self.read(
                "SELECT e.seq, \(LedgerReader.eventColumns) \(fromWhere) \(ordering) LIMIT ?", fromWhereValues,
                limit: limit, in: database, reader: reader)
        }
        let blocks = try database.cachedStatement(
            "SELECT first_seq, last_seq, last_occurred_at_ms FROM event_blocks b\(Self.whereClause(blockConditions)) "
                + "ORDER BY last_occurred_at_ms DESC")
        try Self.bind(blockValues, to: blocks)
        defer { try? blocks.reset() }
        let ofBlock =
            "SELECT e.seq, \(LedgerReader.eventColumns) FROM events e"
            + Self.whereClause(conditions + ["e.seq BETWEEN ? AND ?"]) + " \(ordering) LIMIT ?"
        var newest: [LedgerSequencedEvent] = []
        while try blocks.step() == .row {
            if newest.count == limit, let last = newest.last,
                blocks.int64(at: 2) < last.event.occurredAt.millisecondsSinceEpoch
            {
                break
            }
            let found = try Self.read(
                ofBlock, values + [.integer(blocks.int64(at: 0)), .integer(blocks.int64(at: 1))], limit: limit,
                in: database, reader: reader)
            newest = Self.merge(newest, found, limit: limit)
        }
        return newest
    }

    /// The first `limit` of two lists each newest first, newest first.
    private static func merge(
        _ first: [LedgerSequencedEvent], _ second: [LedgerSequencedEvent], limit: Int
    ) -> [LedgerSequencedEvent] {
        guard !first.isEmpty else { return second }
        guard !second.isEmpty else { return first }
        var merged: [LedgerSequencedEvent] = []
        merged.reserveCapacity(min(limit, first.count + second.count))
        var (left, right) = (first.startIndex, second.startIndex)
        while merged.count < limit, left < first.endIndex || right < second.endIndex {
            if right == second.endIndex || (left < first.endIndex && !isNewer(second[right], than: first[left])) {
                merged.append(first[left])
                left += 1
            } else {
                merged.append(second[right])
                right += 1
            }
        }
        return merged
    }

    /// SQLite's `ORDER BY e.occurred_at_ms DESC, e.type DESC, e.seq DESC`: text compares by its
    /// UTF-8 bytes (the `BINARY` collation).
    private static func isNewer(_ one: LedgerSequencedEvent, than other: LedgerSequencedEvent) -> Bool {
        if one.event.occurredAt != other.event.occurredAt { return one.event.occurredAt > other.event.occurredAt }
        if !one.event.type.utf8.elementsEqual(other.event.type.utf8) {
            return other.event.type.utf8.lexicographicallyPrecedes(one.event.type.utf8)
        }
        return one.seq > other.seq
    }

    private static func read(
        _ sql: String, _ values: [Value], limit: Int, in database: SQLiteDatabase, reader: LedgerReader
    ) throws -> [LedgerSequencedEvent] {
        let select = try database.cachedStatement(sql)
        try bind(values, to: select)
        try select.bind(max(0, limit), at: Int32(values.count + 1))
        defer { try? select.reset() }
        var events: [LedgerSequencedEvent] = []
        while try select.step() == .row {
            events.append(LedgerSequencedEvent(seq: select.int64(at: 0), event: try reader.event(from: select, startingAt: 1)))
        }
        return events
    }

    private static func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    private static func bind(_ values: [Value], to statement: SQLiteStatement) throws {
        for (offset, value) in values.enumerated() {
            switch value {
            case .text(let text): try statement.bind(text, at: Int32(offset + 1))
            case .integer(let number): try statement.bind(number, at: Int32(offset + 1))
            }
        }
    }

    private static func position(_ streamID: String, path: String) throws -> StreamPosition {
        guard let position = StreamPosition(streamID) else {
            throw LedgerError(
                .invalidInput,
                "\"\(streamID)\" is not a stream entry id: write <milliseconds>-<sequence>, e.g. 1700000000000-0, "
                    + "or <milliseconds> alone",
                path: path
            )
        }
        return position
    }
}
