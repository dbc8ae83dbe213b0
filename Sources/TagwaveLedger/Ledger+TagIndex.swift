import TagwaveSQLite

extension Ledger {
    /// Moves the oldest logged tag invalidations into a new sorted run of the tag index.
    ///
    /// Recording appends each invalidated tag to a log (cheap: no index keyed by tag to update
    /// at random places); this sorts up to `maxRows` of the oldest log rows by tag and appends
    /// them to the index as one run, in one transaction. ``eventsTouching(tag:since:until:limit:)``
    /// reads runs and log alike, so compacting only changes how fast it answers. Call it when the
    /// worker is idle, e.g. after a read that returned no entries; ``record(_:)`` also compacts
    /// by itself past ``LedgerOptions/tagLogCompactionThreshold``.
    ///
    /// - Parameter maxRows: the most log rows to move (bigger runs mean fewer runs for a query
    ///   to visit, and a longer write transaction).
    /// - Returns: how many rows moved; 0 when the log was empty.
    /// - Throws: ``LedgerError``.
    @discardableResult
    public func compactTagIndex(maxRows: Int = 100_000) async throws -> Int {
        try await withConnection { connection, database in
            let moved = try LedgerTagIndex.compact(database, maxRows: max(1, maxRows))
            connection.tagLogRows = moved == 0 ? 0 : max(0, connection.tagLogRows - moved)
            return moved
        }
    }
}

/// The tag log and its compaction into sorted runs (see `migrations/0001_initial.sql`). Runs on
/// the ledger's thread.
enum LedgerTagIndex {
    /// Moves up to `maxRows` of the oldest `tag_log` rows into a new run, in one transaction.
    static func compact(_ database: SQLiteDatabase, maxRows: Int) throws -> Int {
        try database.transaction(.immediate) {
            let span = try database.cachedStatement(
                """
                SELECT max(id), min(invalidated_at_ms), max(invalidated_at_ms), count(*)
                FROM (SELECT id, invalidated_at_ms FROM tag_log ORDER BY id LIMIT ?1)
                """
            )
            try span.bind(maxRows, at: 1)
            guard try span.step() == .row, !span.isNull(at: 0) else { return 0 }
            let (lastID, firstAt, lastAt, count) = (
                span.int64(at: 0), span.int64(at: 1), span.int64(at: 2), span.int(at: 3)
            )
            try span.reset()

            let nextRun = try database.cachedStatement("SELECT coalesce(max(run), 0) + 1 FROM tag_runs")
            try nextRun.step()
            let run = nextRun.int64(at: 0)
            try nextRun.reset()

            // `WHERE true` lets SQLite parse the upsert clause after a SELECT.
            let move = try database.cachedStatement(
                """
                INSERT INTO tag_index (run, tag, invalidated_at_ms, outcome_id, event_seq, entries_removed)
                SELECT ?1, tag, invalidated_at_ms, outcome_id, event_seq, entries_removed
                FROM tag_log WHERE id <= ?2 AND true
                ORDER BY tag, invalidated_at_ms, outcome_id
                ON CONFLICT DO NOTHING
                """
            )
            try move.bind(run, at: 1)
            try move.bind(lastID, at: 2)
            try move.execute()

            let delete = try database.cachedStatement("DELETE FROM tag_log WHERE id <= ?1")
            try delete.bind(lastID, at: 1)
            try delete.execute()

            let record = try database.cachedStatement(
                """
                INSERT INTO tag_runs (run, first_at_ms, last_at_ms, row_count, last_log_id, created_at_ms)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                """
            )
            try record.bind(run, at: 1)
            try record.bind(firstAt, at: 2)
            try record.bind(lastAt, at: 3)
            try record.bind(count, at: 4)
            try record.bind(lastID, at: 5)
            try record.bind(LedgerTimestamp.now().millisecondsSinceEpoch, at: 6)
            try record.execute()
            return count
        }
    }

    /// About how many rows wait in `tag_log`: ids after the last compacted one (cheap: two
    /// index lookups, no scan).
    static func pendingLogRows(_ database: SQLiteDatabase) throws -> Int {
        let statement = try database.prepare(
            """
            SELECT coalesce((SELECT max(id) FROM tag_log), 0)
                - coalesce((SELECT max(last_log_id) FROM tag_runs), 0)
            """
        )
        try statement.step()
        return max(0, statement.int(at: 0))
    }

    /// Rows `(invalidated_at_ms, entries_removed, outcome_id, event_seq)` of every invalidation of
    /// `?1` with `?2 <= invalidated_at_ms < ?3`, from the runs overlapping that span and the log.
    static let invalidationsOfTag = """
        SELECT x.invalidated_at_ms, x.entries_removed, x.outcome_id, x.event_seq
        FROM tag_runs r CROSS JOIN tag_index x
        WHERE r.last_at_ms >= ?2 AND r.first_at_ms < ?3
            AND x.run = r.run AND x.tag = ?1 AND x.invalidated_at_ms >= ?2 AND x.invalidated_at_ms < ?3
        UNION ALL
        SELECT l.invalidated_at_ms, l.entries_removed, l.outcome_id, l.event_seq
        FROM tag_log l
        WHERE l.tag = ?1 AND l.invalidated_at_ms >= ?2 AND l.invalidated_at_ms < ?3
        """
}
