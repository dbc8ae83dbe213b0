import TagwaveSQLite

extension Ledger {
    /// The event with id `eventID`, with its outcomes and their tags; nil when it is not recorded.
    ///
    /// - Throws: ``LedgerError``.
    public func event(id eventID: String) async throws -> LedgerEventRecord? {
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
                return LedgerEventRecord(event: event, outcomes: try reader.outcomes(ofEvent: seq, in: database))
            }
        }
    }

    /// Events matching `filter`, newest first (by occurrence time), without their outcomes.
    ///
    /// ```swift
    /// let lastWeek = LedgerTimestamp.now().advanced(by: .seconds(-7 * 86_400))
    /// let failures = try await ledger.events(filter: .init(since: lastWeek, status: .deadLettered))
    /// ```
    ///
    /// - Throws: ``LedgerError``.
    public func events(filter: LedgerEventFilter) async throws -> [LedgerEvent] {
        let selection = LedgerEventSelection(
            types: filter.type.map { [$0] } ?? [], since: filter.since, until: filter.until,
            statuses: filter.status.map { [$0] } ?? [], tag: filter.tag)
        return try await events(matching: selection, order: .newestFirst, limit: filter.limit).map(\.event)
    }

    /// Every time an event invalidated `tag` in `since ..< until`, newest first: "which events
    /// touched tag teacher:123 last week".
    ///
    /// - Parameters:
    ///   - tag: the tag, e.g. `teacher:123`.
    ///   - since: from this time (inclusive); nil for the beginning.
    ///   - until: to this time (exclusive); nil for now.
    ///   - limit: at most this many answers.
    /// - Throws: ``LedgerError``.
    public func eventsTouching(
        tag: String,
        since: LedgerTimestamp? = nil,
        until: LedgerTimestamp? = nil,
        limit: Int = 1000
    ) async throws -> [LedgerTagTouch] {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                """
                SELECT t.invalidated_at_ms,
                    (SELECT json_extract(j.value, '$.removed') FROM json_each(t.tags) j WHERE json_extract(j.value, '$.tag') = ?5 LIMIT 1),
                    t.handler, t.worker, t.replay_run_id, \(LedgerReader.eventColumns)
                FROM (\(LedgerTagSearch.invalidationsOfTag)) t
                JOIN events e ON e.seq = t.seq
                -- exact: the index keeps only a token's first 32,768 bytes
                WHERE EXISTS (SELECT 1 FROM json_each(t.tags) j WHERE json_extract(j.value, '$.tag') = ?5)
                ORDER BY t.invalidated_at_ms DESC, t.seq DESC, t.outcome_id DESC
                LIMIT ?4
                """
            )
            try select.bind(LedgerTagSearch.query(tag), at: 1)
            try select.bind(since?.millisecondsSinceEpoch ?? .min, at: 2)
            try select.bind(until?.millisecondsSinceEpoch ?? .max, at: 3)
            try select.bind(max(0, limit), at: 4)
            try select.bind(tag, at: 5)
            try select.bind(LedgerTagSearch.needle(tag), at: 6)
            let reader = LedgerReader(path: path)
            var touches: [LedgerTagTouch] = []
            while try select.step() == .row {
                touches.append(
                    LedgerTagTouch(
                        tag: tag,
                        invalidatedAt: LedgerTimestamp(millisecondsSinceEpoch: select.int64(at: 0)),
                        entriesRemoved: select.optionalInt64(at: 1).map(Int.init),
                        handler: select.string(at: 2) ?? "",
                        worker: select.string(at: 3) ?? "",
                        replayRunID: select.optionalInt64(at: 4),
                        event: try reader.event(from: select, startingAt: 5)
                    )
                )
            }
            return touches
        }
    }

    /// Dead letters, newest first.
    ///
    /// - Parameters:
    ///   - status: only those with this status; nil for all.
    ///   - limit: at most this many.
    /// - Throws: ``LedgerError``.
    public func deadLetters(status: LedgerDeadLetter.Status? = .open, limit: Int = 100) async throws
        -> [LedgerDeadLetter]
    {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                """
                SELECT id, event_id, stream, stream_id, type, fields, reason_code, reason, attempts,
                    first_failed_at_ms, dead_lettered_at_ms, worker, status, resolved_at_ms, resolved_by
                FROM dead_letters
                WHERE ?1 IS NULL OR status = ?1
                ORDER BY dead_lettered_at_ms DESC, id DESC
                LIMIT ?2
                """
            )
            try select.bind(status?.rawValue, at: 1)
            try select.bind(max(0, limit), at: 2)
            let reader = LedgerReader(path: path)
            var deadLetters: [LedgerDeadLetter] = []
            while try select.step() == .row {
                deadLetters.append(try reader.deadLetter(from: select))
            }
            return deadLetters
        }
    }

    /// Every recorded consumer position, by stream, group and consumer.
    ///
    /// - Throws: ``LedgerError``.
    public func offsets() async throws -> [LedgerOffset] {
        try await withDatabase { database in
            let select = try database.cachedStatement(
                """
                SELECT stream, group_name, consumer, last_delivered_id, last_acked_id, updated_at_ms
                FROM consumer_offsets ORDER BY stream, group_name, consumer
                """
            )
            var offsets: [LedgerOffset] = []
            while try select.step() == .row {
                offsets.append(
                    LedgerOffset(
                        stream: select.string(at: 0) ?? "",
                        group: select.string(at: 1) ?? "",
                        consumer: select.string(at: 2) ?? "",
                        lastDeliveredID: select.string(at: 3),
                        lastAckedID: select.string(at: 4),
                        updatedAt: LedgerTimestamp(millisecondsSinceEpoch: select.int64(at: 5))
                    )
                )
            }
            return offsets
        }
    }

    /// Which of `eventIDs` the ledger has recorded: the worker skips those on redelivery.
    ///
    /// - Throws: ``LedgerError``.
    public func isRecorded(eventIDs: some Collection<String> & Sendable) async throws -> Set<String> {
        guard !eventIDs.isEmpty else { return [] }
        return try await withDatabase { database in
            try database.transaction(.deferred) {
                let select = try database.cachedStatement("SELECT 1 FROM events WHERE event_id = ?")
                var recorded: Set<String> = []
                for eventID in eventIDs {
                    try select.bind(eventID, at: 1)
                    if try select.step() == .row {
                        recorded.insert(eventID)
                    }
                    try select.reset()
                }
                return recorded
            }
        }
    }
}

/// Turns result rows into model values. Runs on the ledger's thread.
struct LedgerReader {
    let path: String

    /// The columns ``event(from:startingAt:)`` reads, for a query that names `events` as `e`.
    static let eventColumns = """
        e.event_id, e.stream, e.stream_id, e.type, e.source, e.occurred_at_ms, e.received_at_ms, e.payload,
        e.metadata, e.traceparent, e.status, e.attempts, e.worker, e.processed_at_ms, e.duration_us,
        e.entries_removed, e.error
        """

    func event(from row: SQLiteStatement, startingAt first: Int32) throws -> LedgerEvent {
        let column = { (offset: Int32) in first + offset }
        let eventID = row.string(at: column(0)) ?? ""
        return LedgerEvent(
            eventID: eventID,
            stream: row.string(at: column(1)) ?? "",
            streamID: row.string(at: column(2)) ?? "",
            type: row.string(at: column(3)) ?? "",
            source: row.string(at: column(4)),
            occurredAt: LedgerTimestamp(millisecondsSinceEpoch: row.int64(at: column(5))),
            receivedAt: LedgerTimestamp(millisecondsSinceEpoch: row.int64(at: column(6))),
            payload: row.string(at: column(7)) ?? "",
            metadata: try row.string(at: column(8)).map {
                try decoded(JSONText.decodeObject($0), "the metadata of event \(eventID)")
            } ?? [:],
            traceparent: row.string(at: column(9)),
            status: try decoded(
                row.string(at: column(10)).flatMap(LedgerEvent.Status.init(rawValue:)),
                "the status of event \(eventID)"
            ),
            attempts: row.int(at: column(11)),
            worker: row.string(at: column(12)) ?? "",
            processedAt: row.optionalInt64(at: column(13)).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
            duration: row.optionalInt64(at: column(14)).map { Duration.microseconds($0) },
            entriesRemoved: row.optionalInt64(at: column(15)).map(Int.init),
            error: row.string(at: column(16))
        )
    }

    func outcomes(ofEvent eventSeq: Int64, in database: SQLiteDatabase) throws -> [LedgerHandlerOutcome] {
        let select = try database.cachedStatement(
            """
            SELECT id, handler, kind, status, attempts, entries_removed, duration_us, worker, error,
                started_at_ms, finished_at_ms, replay_run_id, tags
            FROM handler_outcomes WHERE event_seq = ? ORDER BY id
            """
        )
        try select.bind(eventSeq, at: 1)
        var outcomes: [LedgerHandlerOutcome] = []
        while try select.step() == .row {
            let id = select.int64(at: 0)
            let handler = select.string(at: 1) ?? ""
            outcomes.append(
                LedgerHandlerOutcome(
                    handler: handler,
                    kind: try decoded(
                        select.string(at: 2).flatMap(LedgerHandlerOutcome.Kind.init(rawValue:)),
                        "the kind of outcome \(id) (\(handler))"
                    ),
                    status: try decoded(
                        select.string(at: 3).flatMap(LedgerHandlerOutcome.Status.init(rawValue:)),
                        "the status of outcome \(id) (\(handler))"
                    ),
                    attempts: select.int(at: 4),
                    entriesRemoved: select.optionalInt64(at: 5).map(Int.init),
                    duration: select.optionalInt64(at: 6).map { Duration.microseconds($0) },
                    worker: select.string(at: 7) ?? "",
                    error: select.string(at: 8),
                    startedAt: LedgerTimestamp(millisecondsSinceEpoch: select.int64(at: 9)),
                    finishedAt: LedgerTimestamp(millisecondsSinceEpoch: select.int64(at: 10)),
                    replayRunID: select.optionalInt64(at: 11),
                    invalidatedTags: try select.string(at: 12).map {
                        try decoded(JSONText.decodeTags($0), "the tags of outcome \(id) (\(handler))")
                    } ?? []
                )
            )
        }
        if let kept = try invalidationKeptOnEvent(eventSeq, in: database) {
            // It was recorded with the event, before any replay's outcomes.
            let position = outcomes.firstIndex { $0.replayRunID != nil } ?? outcomes.endIndex
            outcomes.insert(kept, at: position)
        }
        return outcomes
    }

    /// The invalidation outcome kept on the event row itself (migration 0002), if any.
    private func invalidationKeptOnEvent(_ eventSeq: Int64, in database: SQLiteDatabase) throws -> LedgerHandlerOutcome? {
        let select = try database.cachedStatement(
            """
            SELECT invalidation_handler, attempts, entries_removed, invalidation_duration_us, worker,
                invalidation_started_at_ms, processed_at_ms, invalidation_tags
            FROM events WHERE seq = ? AND invalidation_handler IS NOT NULL
            """
        )
        try select.bind(eventSeq, at: 1)
        defer { try? select.reset() }
        guard try select.step() == .row else { return nil }
        let handler = select.string(at: 0) ?? ""
        let finishedAt = LedgerTimestamp(millisecondsSinceEpoch: select.optionalInt64(at: 6) ?? 0)
        return LedgerHandlerOutcome(
            handler: handler,
            kind: .invalidate,
            status: .succeeded,
            attempts: select.int(at: 1),
            entriesRemoved: select.optionalInt64(at: 2).map(Int.init),
            duration: select.optionalInt64(at: 3).map { Duration.microseconds($0) },
            worker: select.string(at: 4) ?? "",
            startedAt: select.optionalInt64(at: 5).map(LedgerTimestamp.init(millisecondsSinceEpoch:)) ?? finishedAt,
            finishedAt: finishedAt,
            invalidatedTags: try select.string(at: 7).map {
                try decoded(JSONText.decodeTags($0), "the tags of event \(eventSeq)'s invalidation (\(handler))")
            } ?? []
        )
    }

    func deadLetter(from row: SQLiteStatement) throws -> LedgerDeadLetter {
        let id = row.int64(at: 0)
        return LedgerDeadLetter(
            id: id,
            eventID: row.string(at: 1) ?? "",
            stream: row.string(at: 2) ?? "",
            streamID: row.string(at: 3) ?? "",
            type: row.string(at: 4),
            fields: try decoded(JSONText.decodePairs(row.string(at: 5) ?? ""), "the fields of dead letter \(id)"),
            reasonCode: row.string(at: 6) ?? "",
            reason: row.string(at: 7) ?? "",
            attempts: row.int(at: 8),
            firstFailedAt: row.optionalInt64(at: 9).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
            deadLetteredAt: LedgerTimestamp(millisecondsSinceEpoch: row.int64(at: 10)),
            worker: row.string(at: 11) ?? "",
            status: try decoded(
                row.string(at: 12).flatMap(LedgerDeadLetter.Status.init(rawValue:)),
                "the status of dead letter \(id)"
            ),
            resolvedAt: row.optionalInt64(at: 13).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
            resolvedBy: row.string(at: 14)
        )
    }

    private func decoded<T>(_ value: T?, _ what: String) throws -> T {
        guard let value else {
            throw LedgerError(
                .unexpectedData,
                "\(what) in \(path) holds a value this program cannot read: the ledger was written by another "
                    + "version or edited by hand",
                path: path
            )
        }
        return value
    }
}

extension SQLiteStatement {
    /// Binds `value` to the parameter `name` when the statement has it (optional filter clauses).
    fileprivate func bind(name: String, _ value: String?) throws {
        if let index = parameterIndex(named: name) { try bind(value, at: index) }
    }

    /// Binds `value` to the parameter `name` when the statement has it (optional filter clauses).
    fileprivate func bind(name: String, _ value: Int64?) throws {
        if let index = parameterIndex(named: name) { try bind(value, at: index) }
    }

    /// Binds `value` to the parameter `name` when the statement has it (optional filter clauses).
    fileprivate func bind(name: String, _ value: Int) throws {
        if let index = parameterIndex(named: name) { try bind(value, at: index) }
    }
}
