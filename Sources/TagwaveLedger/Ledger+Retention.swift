import TagwaveSQLite

/// What one retention pass deleted.
public struct LedgerRetentionResult: Sendable, Hashable {
    /// Events deleted (their outcomes and warm jobs went with them).
    public var events: Int
    /// Invalidations removed from the tag index: one per deleted outcome that named tags.
    public var tagRows: Int
    /// Resolved (retried or purged) dead letters deleted; open ones are always kept.
    public var deadLetters: Int
    /// Finished replay runs deleted.
    public var replayRuns: Int
    /// Warm jobs without an event (coalesced rows of deleted events go with their event).
    public var warmJobs: Int

    /// Rows deleted in all.
    public var total: Int { events + tagRows + deadLetters + replayRuns + warmJobs }
}

extension Ledger {
    /// Deletes history older than `cutoff`, oldest first, at most `batchSize` events per transaction so
    /// concurrent writers (the worker, other processes) are never held up for long.
    ///
    /// Kept whatever their age: open dead letters (they wait for a person), running or interrupted
    /// replay runs (they can be resumed), and consumer offsets (they are where the group resumes).
    /// - Parameters:
    ///   - cutoff: rows received, resolved or finished before this moment go.
    ///   - batchSize: events per transaction.
    /// - Returns: what was deleted.
    /// - Throws: ``LedgerError`` when SQLite fails (what was deleted so far stays deleted).
    @discardableResult
    public func applyRetention(olderThan cutoff: LedgerTimestamp, batchSize: Int = 5000) async throws -> LedgerRetentionResult {
        var result = LedgerRetentionResult(events: 0, tagRows: 0, deadLetters: 0, replayRuns: 0, warmJobs: 0)
        let limit = Int64(max(1, batchSize))
        let before = cutoff.millisecondsSinceEpoch
        while true {
            // Events are recorded in receive order, so the oldest by `seq` are the oldest received.
            let deleted = try await withDatabase { database in
                try database.transaction(.immediate) { () -> (events: Int, tags: Int) in
                    let boundary = try database.cachedStatement(
                        """
                        SELECT MAX(seq) FROM (SELECT seq FROM events WHERE received_at_ms < ? ORDER BY seq LIMIT ?)
                        """)
                    try boundary.bind(before, at: 1)
                    try boundary.bind(limit, at: 2)
                    let last: Int64
                    do {
                        defer { try? boundary.reset() }  // a statement left on its row holds a read snapshot open
                        guard try boundary.step() == .row, !boundary.isNull(at: 0) else { return (0, 0) }
                        last = boundary.int64(at: 0)
                    }
                    // The tag index documents first: they are rebuilt from the rows about to go.
                    let tagRows = try Self.deleteTagDocuments(through: last, receivedBefore: before, in: database)
                    let blocks = try Self.blocks(losingEventsThrough: last, receivedBefore: before, in: database)
                    try Self.deleteBlockDocuments(blocks, in: database)
                    let events = try database.cachedStatement("DELETE FROM events WHERE seq <= ? AND received_at_ms < ?")
                    try events.bind(last, at: 1)
                    try events.bind(before, at: 2)
                    try events.execute()
                    let deleted = database.changes
                    try Self.rewriteBlocks(blocks, in: database)
                    return (deleted, tagRows)
                }
            }
            result.events += deleted.events
            result.tagRows += deleted.tags
            if deleted.events < Int(limit) { break }
        }
        let rest = try await withDatabase { database in
            try database.transaction(.immediate) { () -> (letters: Int, runs: Int, warm: Int) in
                func run(_ sql: String) throws -> Int {
                    let statement = try database.cachedStatement(sql)
                    try statement.bind(before, at: 1)
                    try statement.execute()
                    return database.changes
                }
                let letters = try run("DELETE FROM dead_letters WHERE status <> 'open' AND resolved_at_ms < ?")
                let runs = try run(
                    "DELETE FROM replay_runs WHERE (status = 'completed' OR status = 'failed') AND finished_at_ms < ?")
                let warm = try run("DELETE FROM warm_jobs WHERE event_seq IS NULL AND scheduled_at_ms < ?")
                return (letters, runs, warm)
            }
        }
        result.deadLetters = rest.letters
        result.replayRuns = rest.runs
        result.warmJobs = rest.warm
        return result
    }

    /// Removes the `outcome_tags` documents of the outcomes of events `seq <= last` received before
    /// `before`, and counts the invalidations about to go: those and the events' own.
    private static func deleteTagDocuments(through last: Int64, receivedBefore before: Int64, in database: SQLiteDatabase) throws -> Int {
        let delete = try database.cachedStatement(LedgerTagSearch.deleteOutcomeDocuments)
        try delete.bind(last, at: 1)
        try delete.bind(before, at: 2)
        try delete.execute()
        let outcomes = database.changes
        let count = try database.cachedStatement(
            "SELECT count(*) FROM events WHERE seq <= ? AND received_at_ms < ? AND invalidation_tags IS NOT NULL")
        try count.bind(last, at: 1)
        try count.bind(before, at: 2)
        defer { try? count.reset() }
        guard try count.step() == .row else { return outcomes }
        return outcomes + Int(count.int64(at: 0))
    }

    /// The blocks (`first_seq`, `last_seq`) holding an event `seq <= last` received before `before`.
    private static func blocks(
        losingEventsThrough last: Int64, receivedBefore before: Int64, in database: SQLiteDatabase
    ) throws -> [(first: Int64, last: Int64)] {
        let select = try database.cachedStatement(
            """
            SELECT first_seq, last_seq FROM event_blocks b WHERE first_seq <= ?1 AND EXISTS (
                SELECT 1 FROM events e WHERE e.seq BETWEEN b.first_seq AND min(b.last_seq, ?1) AND e.received_at_ms < ?2)
            """)
        try select.bind(last, at: 1)
        try select.bind(before, at: 2)
        defer { try? select.reset() }
        var blocks: [(first: Int64, last: Int64)] = []
        while try select.step() == .row {
            blocks.append((select.int64(at: 0), select.int64(at: 1)))
        }
        return blocks
    }

    /// Removes the blocks' tag index documents (before their events go: rebuilt from their rows).
    private static func deleteBlockDocuments(_ blocks: [(first: Int64, last: Int64)], in database: SQLiteDatabase) throws {
        let delete = try database.cachedStatement(LedgerTagSearch.deleteBlockDocument)
        for block in blocks {
            try delete.bind(block.first, at: 1)
            try delete.bind(block.last, at: 2)
            try delete.execute()
        }
    }

    /// Writes each block again, row and document, for the events of it that remain (none: it goes).
    private static func rewriteBlocks(_ blocks: [(first: Int64, last: Int64)], in database: SQLiteDatabase) throws {
        let delete = try database.cachedStatement("DELETE FROM event_blocks WHERE first_seq = ?")
        let insert = try database.cachedStatement(LedgerTagSearch.insertRemainingBlock)
        let document = try database.cachedStatement(LedgerTagSearch.insertRemainingBlockDocument)
        for block in blocks {
            try delete.bind(block.first, at: 1)
            try delete.execute()
            for statement in [insert, document] {
                try statement.bind(block.first, at: 1)
                try statement.bind(block.last, at: 2)
                try statement.execute()
            }
        }
    }
}
