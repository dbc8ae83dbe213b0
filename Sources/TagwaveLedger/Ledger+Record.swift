import TagwaveSQLite

extension Ledger {
    /// Records a worker batch in one transaction: its events with their outcomes and tags, its
    /// dead letters and its consumer offsets.
    ///
    /// Idempotent per event id: an event the ledger already has is not recorded again, and
    /// neither are its live outcomes; outcomes carrying a ``LedgerHandlerOutcome/replayRunID``
    /// are added to the existing event (a replay's own audit trail). A dead letter for a stream
    /// entry already open in the queue is not added twice. Offsets only move forward.
    ///
    /// Acknowledge the batch's stream entries only after this returns.
    ///
    /// - Returns: which event ids were new and which were already recorded.
    /// - Throws: ``LedgerError``: `busy` when another process held the lock past the busy
    ///   timeout, `diskFull`, `invalidInput` for a malformed stream entry id. Nothing of the batch
    ///   is recorded then.
    public func record(_ batch: LedgerBatch) async throws -> LedgerCommit {
        guard !batch.isEmpty else { return LedgerCommit() }
        return try await withDatabase { [path] database in
            var writer = LedgerWriter(database: database, path: path)
            return try database.transaction(.immediate) {
                try writer.write(batch)
            }
        }
    }
}

/// Writes one batch with cached prepared statements. Runs on the ledger's thread, inside the
/// batch's transaction.
struct LedgerWriter {
    let database: SQLiteDatabase
    let path: String
    private var insertOutcome: SQLiteStatement?
    private var insertOutcomeDocument: SQLiteStatement?
    /// The events this transaction records: one block (migration 0005).
    private var block = Block()
    /// Where each row's tag JSON and tag document are written before they are bound.
    private var scratch: [UInt8] = []

    init(database: SQLiteDatabase, path: String) {
        self.database = database
        self.path = path
    }

    mutating func write(_ batch: LedgerBatch) throws -> LedgerCommit {
        var commit = LedgerCommit()
        if !batch.events.isEmpty {
            commit.newEventIDs.reserveCapacity(batch.events.count)
            let insertEvent = try database.cachedStatement(Self.insertEvent)
            for index in batch.events.indices {
                try write(batch.events[index], with: insertEvent, into: &commit)
            }
            try writeBlock()
        }
        if !batch.deadLetters.isEmpty {
            let insert = try database.cachedStatement(Self.insertDeadLetter)
            for deadLetter in batch.deadLetters {
                try bind(deadLetter, to: insert)
                try insert.execute()
                commit.deadLettersRecorded += database.changes
            }
        }
        if !batch.offsets.isEmpty {
            let upsert = try database.cachedStatement(Self.upsertOffset)
            for offset in batch.offsets {
                try bind(offset, to: upsert)
                try upsert.execute()
            }
        }
        return commit
    }

    private mutating func write(
        _ record: LedgerEventRecord,
        with insert: SQLiteStatement,
        into commit: inout LedgerCommit
    ) throws {
        // A live, successful invalidation outcome is kept on the event row (migration 0002). Each
        // outcome's tags once: its JSON and its tag index document name the same tags.
        let kept = record.outcomes.lastIndex { Self.keepsOnEventRow($0, of: record.event) }
        let keptTags = kept.map { LedgerTagSearch.distinct(record.outcomes[$0].invalidatedTags) } ?? []
        try bind(record.event, invalidation: kept.map { record.outcomes[$0] }, tags: keptTags, to: insert)
        try insert.execute()
        let eventSeq: Int64
        let replaysOnly: Bool
        if database.changes == 1 {
            eventSeq = database.lastInsertRowID
            commit.newEventIDs.append(record.event.eventID)
            block.add(
                eventSeq, occurredAt: record.event.occurredAt.millisecondsSinceEpoch,
                processedAt: record.event.processedAt?.millisecondsSinceEpoch, tags: keptTags)
            replaysOnly = false
        } else {
            commit.alreadyRecordedEventIDs.append(record.event.eventID)
            guard record.outcomes.contains(where: { $0.replayRunID != nil }) else { return }
            eventSeq = try existingSeq(of: record.event.eventID)
            replaysOnly = true
        }
        for index in record.outcomes.indices where index != kept || replaysOnly {
            let outcome = record.outcomes[index]
            guard !replaysOnly || outcome.replayRunID != nil else { continue }
            let tags = LedgerTagSearch.distinct(outcome.invalidatedTags)
            let insertOutcome = try statement(\.insertOutcome, Self.insertOutcome)
            try bind(outcome, tags: tags, eventSeq: eventSeq, to: insertOutcome)
            try insertOutcome.execute()
            if !tags.isEmpty {
                try self.index(tags, rowID: database.lastInsertRowID, with: \.insertOutcomeDocument, LedgerTagSearch.insertOutcomeDocument)
            }
        }
    }

    /// The block of the events a transaction records: their seqs, which a new row takes one after
    /// the other (`max(seq) + 1`: no other writer runs inside the transaction), their times, and
    /// their live invalidations' tags.
    private struct Block {
        var first: Int64?
        var last: Int64 = 0
        var firstOccurred = Int64.max
        var lastOccurred = Int64.min
        var firstProcessed: Int64?
        var lastProcessed: Int64?
        var tags = LedgerTagSearch.BlockTags()

        mutating func add(_ seq: Int64, occurredAt: Int64, processedAt: Int64?, tags: [LedgerTagInvalidation]) {
            if first == nil { first = seq }
            last = seq
            firstOccurred = min(firstOccurred, occurredAt)
            lastOccurred = max(lastOccurred, occurredAt)
            if let processedAt {
                firstProcessed = min(firstProcessed ?? processedAt, processedAt)
                lastProcessed = max(lastProcessed ?? processedAt, processedAt)
            }
            if !tags.isEmpty { self.tags.formUnion(tags) }
        }
    }

    /// Records the block of the events this transaction recorded, and its tag index document.
    private mutating func writeBlock() throws {
        guard let first = block.first else { return }
        let insert = try database.cachedStatement(LedgerTagSearch.insertBlock)
        try insert.bind(first, at: 1)
        try insert.bind(block.last, at: 2)
        try insert.bind(block.firstOccurred, at: 3)
        try insert.bind(block.lastOccurred, at: 4)
        try insert.bind(block.firstProcessed, at: 5)
        try insert.bind(block.lastProcessed, at: 6)
        try insert.execute()
        guard !block.tags.isEmpty else { return }
        let document = try database.cachedStatement(LedgerTagSearch.insertBlockDocument)
        try document.bind(first, at: 1)
        scratch.removeAll(keepingCapacity: true)
        block.tags.appendDocument(to: &scratch)
        try bindScratch(at: 2, of: document)
        try document.execute()
    }

    /// Whether `outcome` is kept in the event row's `invalidation_*` columns rather than a
    /// `handler_outcomes` row: a live delivery's successful invalidation whose attempts, worker,
    /// entries removed and finish time are the event's own, so nothing of it is lost.
    static func keepsOnEventRow(_ outcome: LedgerHandlerOutcome, of event: LedgerEvent) -> Bool {
        outcome.kind == .invalidate && outcome.status == .succeeded && outcome.replayRunID == nil && outcome.error == nil
            && outcome.attempts == event.attempts && outcome.worker == event.worker
            && outcome.entriesRemoved == event.entriesRemoved && outcome.finishedAt == event.processedAt
    }

    /// Adds an outcome's tag document to the tag index (rowids only grow within a transaction, so
    /// FTS5 keeps the batch's terms in memory until the commit).
    private mutating func index(
        _ tags: [LedgerTagInvalidation], rowID: Int64, with slot: WritableKeyPath<LedgerWriter, SQLiteStatement?>,
        _ sql: String
    ) throws {
        let insert = try statement(slot, sql)
        try insert.bind(rowID, at: 1)
        scratch.removeAll(keepingCapacity: true)
        LedgerTagSearch.appendDocument(tags, to: &scratch)
        try bindScratch(at: 2, of: insert)
        try insert.execute()
    }

    /// Binds the text in ``scratch`` (SQLite copies it: the buffer is reused for the next value).
    private func bindScratch(at index: Int32, of statement: SQLiteStatement) throws {
        try scratch.withUnsafeBytes { try statement.bind(utf8: $0, at: index) }
    }

    /// Binds `tags` as the JSON of an outcome's tags, or `NULL` for none.
    private mutating func bindTags(_ tags: [LedgerTagInvalidation], at index: Int32, of statement: SQLiteStatement) throws {
        guard !tags.isEmpty else { return try statement.bindNull(at: index) }
        scratch.removeAll(keepingCapacity: true)
        JSONText.appendTags(tags, to: &scratch)
        try bindScratch(at: index, of: statement)
    }

    /// The cached statement for `sql`, looked up once per batch (the lookup hashes the SQL text).
    private mutating func statement(
        _ slot: WritableKeyPath<LedgerWriter, SQLiteStatement?>,
        _ sql: String
    ) throws -> SQLiteStatement {
        if let statement = self[keyPath: slot] { return statement }
        let statement = try database.cachedStatement(sql)
        self[keyPath: slot] = statement
        return statement
    }

    private func existingSeq(of eventID: String) throws -> Int64 {
        let select = try database.cachedStatement("SELECT seq FROM events WHERE event_id = ?")
        try select.bind(eventID, at: 1)
        defer { try? select.reset() }
        guard try select.step() == .row else {
            throw LedgerError(.unexpectedData, "event \(eventID) vanished from \(path) during a write", path: path)
        }
        return select.int64(at: 0)
    }

    /// `what` names the row in the error, and is only built then.
    private func position(_ streamID: String, of what: @autoclosure () -> String) throws -> StreamPosition {
        guard let position = StreamPosition(streamID) else {
            throw LedgerError(
                .invalidInput,
                "\(what()) has the stream entry id \"\(streamID)\", which is not <milliseconds>-<sequence> "
                    + "(e.g. 1700000000000-0): pass the id Redis gave the entry",
                path: path
            )
        }
        return position
    }

    // MARK: Statements

    private static let insertEvent = """
        INSERT INTO events (
            event_id, stream, stream_id, stream_ms, stream_seq, type, source, occurred_at_ms, received_at_ms,
            payload, metadata, traceparent, status, attempts, worker, processed_at_ms, duration_us,
            entries_removed, error, invalidation_handler, invalidation_started_at_ms, invalidation_duration_us,
            invalidation_tags
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)
        ON CONFLICT (event_id) DO NOTHING
        """

    private mutating func bind(
        _ event: LedgerEvent, invalidation: LedgerHandlerOutcome?, tags: [LedgerTagInvalidation], to statement: SQLiteStatement
    ) throws {
        let position = try position(event.streamID, of: "event \(event.eventID)")
        try statement.bind(event.eventID, at: 1)
        try statement.bind(event.stream, at: 2)
        try statement.bind(event.streamID, at: 3)
        try statement.bind(position.milliseconds, at: 4)
        try statement.bind(position.sequence, at: 5)
        try statement.bind(event.type, at: 6)
        try statement.bind(event.source, at: 7)
        try statement.bind(event.occurredAt.millisecondsSinceEpoch, at: 8)
        try statement.bind(event.receivedAt.millisecondsSinceEpoch, at: 9)
        try statement.bind(event.payload, at: 10)
        try statement.bind(event.metadata.isEmpty ? nil : JSONText.object(event.metadata), at: 11)
        try statement.bind(event.traceparent, at: 12)
        try statement.bind(event.status.rawValue, at: 13)
        try statement.bind(event.attempts, at: 14)
        try statement.bind(event.worker, at: 15)
        try statement.bind(event.processedAt?.millisecondsSinceEpoch, at: 16)
        try statement.bind(event.duration?.wholeMicroseconds, at: 17)
        try statement.bind(event.entriesRemoved, at: 18)
        try statement.bind(event.error, at: 19)
        try statement.bind(invalidation?.handler, at: 20)
        try statement.bind(invalidation?.startedAt.millisecondsSinceEpoch, at: 21)
        try statement.bind(invalidation?.duration?.wholeMicroseconds, at: 22)
        try bindTags(tags, at: 23, of: statement)
    }

    private static let insertOutcome = """
        INSERT INTO handler_outcomes (
            event_seq, handler, kind, status, attempts, entries_removed, duration_us, worker, error,
            started_at_ms, finished_at_ms, replay_run_id, tags
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
        """

    private mutating func bind(
        _ outcome: LedgerHandlerOutcome, tags: [LedgerTagInvalidation], eventSeq: Int64, to statement: SQLiteStatement
    ) throws {
        try statement.bind(eventSeq, at: 1)
        try statement.bind(outcome.handler, at: 2)
        try statement.bind(outcome.kind.rawValue, at: 3)
        try statement.bind(outcome.status.rawValue, at: 4)
        try statement.bind(outcome.attempts, at: 5)
        try statement.bind(outcome.entriesRemoved, at: 6)
        try statement.bind(outcome.duration?.wholeMicroseconds, at: 7)
        try statement.bind(outcome.worker, at: 8)
        try statement.bind(outcome.error, at: 9)
        try statement.bind(outcome.startedAt.millisecondsSinceEpoch, at: 10)
        try statement.bind(outcome.finishedAt.millisecondsSinceEpoch, at: 11)
        try statement.bind(outcome.replayRunID, at: 12)
        try bindTags(tags, at: 13, of: statement)
    }

    private static let insertDeadLetter = """
        INSERT INTO dead_letters (
            event_id, stream, stream_id, stream_ms, stream_seq, type, fields, reason_code, reason, attempts,
            first_failed_at_ms, dead_lettered_at_ms, worker, status, resolved_at_ms, resolved_by
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
        ON CONFLICT DO NOTHING
        """

    private func bind(_ deadLetter: LedgerDeadLetter, to statement: SQLiteStatement) throws {
        let position = try position(deadLetter.streamID, of: "dead letter for event \(deadLetter.eventID)")
        try statement.bind(deadLetter.eventID, at: 1)
        try statement.bind(deadLetter.stream, at: 2)
        try statement.bind(deadLetter.streamID, at: 3)
        try statement.bind(position.milliseconds, at: 4)
        try statement.bind(position.sequence, at: 5)
        try statement.bind(deadLetter.type, at: 6)
        try statement.bind(JSONText.pairs(deadLetter.fields), at: 7)
        try statement.bind(deadLetter.reasonCode, at: 8)
        try statement.bind(deadLetter.reason, at: 9)
        try statement.bind(deadLetter.attempts, at: 10)
        try statement.bind(deadLetter.firstFailedAt?.millisecondsSinceEpoch, at: 11)
        try statement.bind(deadLetter.deadLetteredAt.millisecondsSinceEpoch, at: 12)
        try statement.bind(deadLetter.worker, at: 13)
        try statement.bind(deadLetter.status.rawValue, at: 14)
        try statement.bind(deadLetter.resolvedAt?.millisecondsSinceEpoch, at: 15)
        try statement.bind(deadLetter.resolvedBy, at: 16)
    }

    /// Each position moves only forward: a column takes the new value only when the new id is
    /// greater (row values compare as Redis orders ids). Every right-hand side reads the old row.
    private static let upsertOffset = """
        INSERT INTO consumer_offsets (
            stream, group_name, consumer, last_delivered_id, last_delivered_ms, last_delivered_seq,
            last_acked_id, last_acked_ms, last_acked_seq, updated_at_ms
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        ON CONFLICT (stream, group_name, consumer) DO UPDATE SET
            last_delivered_id = iif(\(advances("delivered")), excluded.last_delivered_id, last_delivered_id),
            last_delivered_ms = iif(\(advances("delivered")), excluded.last_delivered_ms, last_delivered_ms),
            last_delivered_seq = iif(\(advances("delivered")), excluded.last_delivered_seq, last_delivered_seq),
            last_acked_id = iif(\(advances("acked")), excluded.last_acked_id, last_acked_id),
            last_acked_ms = iif(\(advances("acked")), excluded.last_acked_ms, last_acked_ms),
            last_acked_seq = iif(\(advances("acked")), excluded.last_acked_seq, last_acked_seq),
            updated_at_ms = max(updated_at_ms, excluded.updated_at_ms)
        """

    private static func advances(_ column: String) -> String {
        "excluded.last_\(column)_ms IS NOT NULL AND (last_\(column)_ms IS NULL OR "
            + "(excluded.last_\(column)_ms, excluded.last_\(column)_seq) > (last_\(column)_ms, last_\(column)_seq))"
    }

    private func bind(_ offset: LedgerOffset, to statement: SQLiteStatement) throws {
        let subject = "offset of \(offset.consumer) in \(offset.stream)/\(offset.group)"
        let delivered = try offset.lastDeliveredID.map { try position($0, of: subject) }
        let acked = try offset.lastAckedID.map { try position($0, of: subject) }
        try statement.bind(offset.stream, at: 1)
        try statement.bind(offset.group, at: 2)
        try statement.bind(offset.consumer, at: 3)
        try statement.bind(offset.lastDeliveredID, at: 4)
        try statement.bind(delivered?.milliseconds, at: 5)
        try statement.bind(delivered?.sequence, at: 6)
        try statement.bind(offset.lastAckedID, at: 7)
        try statement.bind(acked?.milliseconds, at: 8)
        try statement.bind(acked?.sequence, at: 9)
        try statement.bind(offset.updatedAt.millisecondsSinceEpoch, at: 10)
    }
}
