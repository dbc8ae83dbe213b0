import TagwaveSQLite

/// Figures from the ledger for `tagwave stats` and the health monitor: throughput, failures and the
/// dead-letter queue.
public struct LedgerStatistics: Sendable, Hashable {
    /// When the figures were taken.
    public var takenAt: LedgerTimestamp
    /// Events recorded in the last 60 seconds (by the time a worker read them).
    public var eventsLastMinute: Int
    /// Events recorded in the last hour.
    public var eventsLastHour: Int
    /// Entries dead-lettered in the last hour.
    public var deadLetteredLastHour: Int
    /// The dead-letter queue.
    public var deadLetters: LedgerDeadLetterCounts
    /// The newest recording sequence number (0 when empty).
    public var latestSeq: Int64
    /// When the newest event was read by a worker.
    public var newestReceivedAt: LedgerTimestamp?
    /// When the oldest event kept was read by a worker (retention deletes older ones).
    public var oldestReceivedAt: LedgerTimestamp?
    /// Replay runs in the `running` state.
    public var runningReplays: Int

    /// Events per second over the last minute.
    public var eventsPerSecondLastMinute: Double { Double(eventsLastMinute) / 60 }
    /// Events per second over the last hour.
    public var eventsPerSecondLastHour: Double { Double(eventsLastHour) / 3600 }
    /// Entries dead-lettered in the last hour as a percentage of all entries handled in it (0 when none).
    public var deadLetterRateLastHour: Double {
        let handled = eventsLastHour + deadLetteredLastHour
        return handled == 0 ? 0 : Double(deadLetteredLastHour) * 100 / Double(handled)
    }

    /// Figures.
    public init(
        takenAt: LedgerTimestamp, eventsLastMinute: Int = 0, eventsLastHour: Int = 0, deadLetteredLastHour: Int = 0,
        deadLetters: LedgerDeadLetterCounts = .init(), latestSeq: Int64 = 0, newestReceivedAt: LedgerTimestamp? = nil,
        oldestReceivedAt: LedgerTimestamp? = nil, runningReplays: Int = 0
    ) {
        self.takenAt = takenAt
        self.eventsLastMinute = eventsLastMinute
        self.eventsLastHour = eventsLastHour
        self.deadLetteredLastHour = deadLetteredLastHour
        self.deadLetters = deadLetters
        self.latestSeq = latestSeq
        self.newestReceivedAt = newestReceivedAt
        self.oldestReceivedAt = oldestReceivedAt
        self.runningReplays = runningReplays
    }
}

extension Ledger {
    /// Throughput over the last minute and hour, dead letters and the ledger's extent.
    ///
    /// Windows are found by a binary search over the recording order (workers record in the order
    /// they read, so `received_at` follows `seq` to within a batch), then counted on the primary key:
    /// no index on receive time is needed and the worker's inserts stay lean.
    ///
    /// - Parameter now: the end of the windows.
    /// - Throws: ``LedgerError``.
    public func statistics(now: LedgerTimestamp = .now()) async throws -> LedgerStatistics {
        let deadLetters = try await deadLetterCounts()
        return try await withDatabase { database in
            try database.transaction(.deferred) {
                var statistics = LedgerStatistics(takenAt: now, deadLetters: deadLetters)
                let bounds = try database.cachedStatement(
                    """
                    SELECT (SELECT seq FROM events ORDER BY seq LIMIT 1), (SELECT seq FROM events ORDER BY seq DESC LIMIT 1)
                    """)
                guard try bounds.step() == .row, let first = bounds.optionalInt64(at: 0),
                    let last = bounds.optionalInt64(at: 1)
                else {
                    try bounds.reset()
                    statistics.deadLetteredLastHour = try Self.deadLettered(
                        since: now.advanced(by: .seconds(-3600)), in: database)
                    statistics.runningReplays = try Self.runningReplays(in: database)
                    return statistics
                }
                try bounds.reset()
                statistics.latestSeq = last
                statistics.oldestReceivedAt = try Self.event(atOrAfter: first, in: database).map {
                    LedgerTimestamp(millisecondsSinceEpoch: $0.receivedAt)
                }
                statistics.newestReceivedAt = try Self.event(atOrAfter: last, in: database).map {
                    LedgerTimestamp(millisecondsSinceEpoch: $0.receivedAt)
                }
                statistics.eventsLastMinute = try Self.countReceived(
                    since: now.advanced(by: .seconds(-60)), first: first, last: last, in: database)
                statistics.eventsLastHour = try Self.countReceived(
                    since: now.advanced(by: .seconds(-3600)), first: first, last: last, in: database)
                statistics.deadLetteredLastHour = try Self.deadLettered(
                    since: now.advanced(by: .seconds(-3600)), in: database)
                statistics.runningReplays = try Self.runningReplays(in: database)
                return statistics
            }
        }
    }

    private static func event(atOrAfter seq: Int64, in database: SQLiteDatabase) throws -> (
        seq: Int64, receivedAt: Int64
    )? {
        let select = try database.cachedStatement(
            "SELECT seq, received_at_ms FROM events WHERE seq >= ? ORDER BY seq LIMIT 1")
        try select.bind(seq, at: 1)
        defer { try? select.reset() }
        guard try select.step() == .row else { return nil }
        return (select.int64(at: 0), select.int64(at: 1))
    }

    /// Events received at or after `since`: the first such `seq` by binary search, then a count.
    private static func countReceived(since: LedgerTimestamp, first: Int64, last: Int64, in database: SQLiteDatabase)
        throws -> Int
    {
        let threshold = since.millisecondsSinceEpoch
        guard let newest = try event(atOrAfter: last, in: database), newest.receivedAt >= threshold else { return 0 }
        var low = first
        var high = newest.seq
        while low < high {
            let middle = low + (high - low) / 2
            guard let probe = try event(atOrAfter: middle, in: database) else { break }
            if probe.receivedAt >= threshold {
                high = probe.seq
            } else {
                low = probe.seq + 1
            }
        }
        let count = try database.cachedStatement("SELECT count(*) FROM events WHERE seq >= ?")
        try count.bind(low, at: 1)
        defer { try? count.reset() }
        guard try count.step() == .row else { return 0 }
        return count.int(at: 0)
    }

    private static func deadLettered(since: LedgerTimestamp, in database: SQLiteDatabase) throws -> Int {
        let select = try database.cachedStatement("SELECT count(*) FROM dead_letters WHERE dead_lettered_at_ms >= ?")
        try select.bind(since.millisecondsSinceEpoch, at: 1)
        defer { try? select.reset() }
        guard try select.step() == .row else { return 0 }
        return select.int(at: 0)
    }

    private static func runningReplays(in database: SQLiteDatabase) throws -> Int {
        let select = try database.cachedStatement(
            "SELECT count(*) FROM replay_runs WHERE status = 'running' AND dry_run = 0")
        defer { try? select.reset() }
        guard try select.step() == .row else { return 0 }
        return select.int(at: 0)
    }
}
