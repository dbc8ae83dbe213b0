import Foundation
import TagwaveSQLite

/// One replay an operator ran (`tagwave replay`): a row of `replay_runs`, written when it starts and
/// kept up to date while it runs, so that an interrupted replay can resume after ``lastEventSeq``.
public struct LedgerReplayRun: Sendable, Hashable {
    /// Where a run stands.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Running now (or its process died without saying so: see ``LedgerReplayRun/lastEventSeq``).
        case running
        /// Every selected event was replayed.
        case completed
        /// Stopped by the operator (SIGINT) after a finished batch; resumable.
        case interrupted
        /// Stopped by an error after a finished batch; resumable once the cause is fixed.
        case failed
    }

    /// The run's id: the `replay_run_id` of its outcome rows.
    public var id: Int64
    /// When it started.
    public var startedAt: LedgerTimestamp
    /// When it ended (completed, interrupted or failed); nil while running.
    public var finishedAt: LedgerTimestamp?
    /// How the operator asked for it, e.g. `--since 2h --type session.created`: re-running the same
    /// request continues an unfinished run instead of starting over.
    public var request: String
    /// The events it replays, fixed when it started (relative times resolved, the range closed at the
    /// ledger's newest event then).
    public var selection: LedgerEventSelection
    /// A dry run prints what it would do and changes nothing.
    public var dryRun: Bool
    /// The kinds of work it was limited to (`invalidate`, `warm`); nil for all.
    public var only: [String]?
    /// Where it stands.
    public var status: Status
    /// How many events it selected, when counted.
    public var eventsTotal: Int?
    /// How many it has replayed.
    public var eventsDone: Int
    /// The recording sequence number of the last event it finished: a resumed run continues after it.
    public var lastEventSeq: Int64?
    /// Who ran it (`user@host`).
    public var operatorName: String?
    /// Why it failed or was interrupted.
    public var error: String?

    /// True when it can be continued with `tagwave replay --resume`.
    public var isResumable: Bool { !dryRun && (status == .interrupted || status == .failed || status == .running) }
}

extension Ledger {
    /// Records the start of a replay run (status `running`).
    ///
    /// - Parameters:
    ///   - request: how the operator asked for it (its identity for ``unfinishedReplayRun(request:only:)``).
    ///   - selection: the events it replays, with relative times already resolved and
    ///     ``LedgerEventSelection/throughSeq`` set, so that resuming replays the same range.
    ///   - dryRun: whether it only prints.
    ///   - only: the kinds of work it is limited to; nil for all.
    ///   - operatorName: who runs it.
    ///   - eventsTotal: how many events it selected, when counted.
    /// - Returns: the run, with its id.
    /// - Throws: ``LedgerError``.
    public func startReplayRun(
        request: String,
        selection: LedgerEventSelection,
        dryRun: Bool,
        only: [String]?,
        operatorName: String?,
        eventsTotal: Int?,
        at startedAt: LedgerTimestamp = .now()
    ) async throws -> LedgerReplayRun {
        let filter = try LedgerReplayFilter(request: request, selection: selection).json()
        let onlyJSON = try only.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        return try await withDatabase { database in
            try database.transaction(.immediate) {
                let insert = try database.cachedStatement(
                    """
                    INSERT INTO replay_runs (started_at_ms, filter, dry_run, only, status, events_total, events_done, operator)
                    VALUES (?1, ?2, ?3, ?4, 'running', ?5, 0, ?6)
                    """
                )
                try insert.bind(startedAt.millisecondsSinceEpoch, at: 1)
                try insert.bind(filter, at: 2)
                try insert.bind(dryRun ? 1 : 0, at: 3)
                try insert.bind(onlyJSON, at: 4)
                try insert.bind(eventsTotal, at: 5)
                try insert.bind(operatorName, at: 6)
                try insert.execute()
                return LedgerReplayRun(
                    id: database.lastInsertRowID, startedAt: startedAt, finishedAt: nil, request: request,
                    selection: selection, dryRun: dryRun, only: only, status: .running, eventsTotal: eventsTotal,
                    eventsDone: 0, lastEventSeq: nil, operatorName: operatorName, error: nil)
            }
        }
    }

    /// The replay run `id`; nil when there is none.
    ///
    /// - Throws: ``LedgerError``.
    public func replayRun(id: Int64) async throws -> LedgerReplayRun? {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                "SELECT \(LedgerReplayFilter.columns) FROM replay_runs WHERE id = ?")
            try select.bind(id, at: 1)
            guard try select.step() == .row else { return nil }
            return try LedgerReplayFilter.run(from: select, path: path)
        }
    }

    /// Replay runs, newest first.
    ///
    /// - Throws: ``LedgerError``.
    public func replayRuns(limit: Int = 20) async throws -> [LedgerReplayRun] {
        try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                "SELECT \(LedgerReplayFilter.columns) FROM replay_runs ORDER BY id DESC LIMIT ?")
            try select.bind(max(0, limit), at: 1)
            var runs: [LedgerReplayRun] = []
            while try select.step() == .row {
                runs.append(try LedgerReplayFilter.run(from: select, path: path))
            }
            return runs
        }
    }

    /// The newest run asked for exactly as `request`, limited to the same kinds of work, that was
    /// interrupted or failed: re-running the same `tagwave replay` continues it.
    ///
    /// A run left `running` by a process that died is not picked up this way (another replay may
    /// still be running it): resume it by id.
    ///
    /// - Throws: ``LedgerError``.
    public func unfinishedReplayRun(request: String, only: [String]?) async throws -> LedgerReplayRun? {
        let runs: [LedgerReplayRun] = try await withDatabase { [path] database in
            let select = try database.cachedStatement(
                """
                SELECT \(LedgerReplayFilter.columns) FROM replay_runs
                WHERE dry_run = 0 AND (status = 'interrupted' OR status = 'failed') AND json_extract(filter, '$.request') = ?
                ORDER BY id DESC LIMIT 20
                """
            )
            try select.bind(request, at: 1)
            var runs: [LedgerReplayRun] = []
            while try select.step() == .row {
                runs.append(try LedgerReplayFilter.run(from: select, path: path))
            }
            return runs
        }
        return runs.first { $0.only == only }
    }

    /// Notes a replay run's progress after a finished batch.
    ///
    /// - Parameters:
    ///   - id: the run.
    ///   - eventsDone: events replayed so far.
    ///   - lastEventSeq: the recording sequence number of the last event finished.
    /// - Throws: ``LedgerError``.
    public func updateReplayRun(id: Int64, eventsDone: Int, lastEventSeq: Int64?) async throws {
        try await withDatabase { database in
            let update = try database.cachedStatement(
                "UPDATE replay_runs SET events_done = ?1, last_event_seq = coalesce(?2, last_event_seq) WHERE id = ?3")
            try update.bind(eventsDone, at: 1)
            try update.bind(lastEventSeq, at: 2)
            try update.bind(id, at: 3)
            try update.execute()
        }
    }

    /// Ends a replay run: `completed`, `interrupted` or `failed` (with why).
    ///
    /// - Throws: ``LedgerError``.
    public func finishReplayRun(
        id: Int64, status: LedgerReplayRun.Status, error: String? = nil, at finishedAt: LedgerTimestamp = .now()
    ) async throws {
        try await withDatabase { database in
            let update = try database.cachedStatement(
                "UPDATE replay_runs SET status = ?1, error = ?2, finished_at_ms = ?3 WHERE id = ?4")
            try update.bind(status.rawValue, at: 1)
            try update.bind(error, at: 2)
            try update.bind(finishedAt.millisecondsSinceEpoch, at: 3)
            try update.bind(id, at: 4)
            try update.execute()
        }
    }

    /// Marks run `id` as running again, to resume it; returns it as it now stands.
    ///
    /// - Throws: ``LedgerError``.
    public func reopenReplayRun(id: Int64) async throws -> LedgerReplayRun? {
        try await withDatabase { [path] database in
            try database.transaction(.immediate) {
                let update = try database.cachedStatement(
                    "UPDATE replay_runs SET status = 'running', error = NULL, finished_at_ms = NULL WHERE id = ?")
                try update.bind(id, at: 1)
                try update.execute()
                let select = try database.cachedStatement(
                    "SELECT \(LedgerReplayFilter.columns) FROM replay_runs WHERE id = ?")
                try select.bind(id, at: 1)
                guard try select.step() == .row else { return nil }
                return try LedgerReplayFilter.run(from: select, path: path)
            }
        }
    }

    /// Which of the events at `seqs` already have an outcome of replay run `runID`: a resumed run
    /// skips them (their batch was recorded just before the process stopped, its progress was not).
    ///
    /// - Throws: ``LedgerError``.
    public func eventsReplayed(byRun runID: Int64, among seqs: [Int64]) async throws -> Set<Int64> {
        guard !seqs.isEmpty else { return [] }
        return try await withDatabase { database in
            try database.transaction(.deferred) {
                let select = try database.cachedStatement(
                    "SELECT 1 FROM handler_outcomes WHERE event_seq = ? AND replay_run_id = ? LIMIT 1")
                try select.bind(runID, at: 2)
                var replayed: Set<Int64> = []
                for seq in seqs {
                    try select.bind(seq, at: 1)
                    if try select.step() == .row { replayed.insert(seq) }
                    try select.reset()
                }
                return replayed
            }
        }
    }

    /// What replay run `runID` recorded: its outcome rows, the distinct events they belong to, and
    /// how many rows repeat an event's kind of work (0 unless an event was replayed twice).
    ///
    /// - Throws: ``LedgerError``.
    public func replayOutcomeCounts(run runID: Int64) async throws -> (outcomes: Int, events: Int, repeated: Int) {
        try await withDatabase { database in
            let select = try database.cachedStatement(
                """
                SELECT count(*), count(DISTINCT event_seq), count(*) - count(DISTINCT event_seq || ':' || kind)
                FROM handler_outcomes WHERE replay_run_id = ?
                """)
            try select.bind(runID, at: 1)
            guard try select.step() == .row else { return (0, 0, 0) }
            return (select.int(at: 0), select.int(at: 1), select.int(at: 2))
        }
    }
}

/// The JSON kept in `replay_runs.filter`: the request as the operator wrote it, and the selection
/// it resolved to.
struct LedgerReplayFilter: Codable {
    var request: String
    var types: [String]?
    var source: String?
    var sinceMs: Int64?
    var untilMs: Int64?
    var statuses: [String]?
    var tag: String?
    var eventID: String?
    var fromStreamID: String?
    var toStreamID: String?
    var afterSeq: Int64?
    var throughSeq: Int64?

    enum CodingKeys: String, CodingKey {
        case request, types, source, tag, statuses
        case sinceMs = "since_ms"
        case untilMs = "until_ms"
        case eventID = "event_id"
        case fromStreamID = "from_id"
        case toStreamID = "to_id"
        case afterSeq = "after_seq"
        case throughSeq = "through_seq"
    }

    init(request: String, selection: LedgerEventSelection) {
        self.request = request
        types = selection.types.isEmpty ? nil : selection.types
        source = selection.source
        sinceMs = selection.since?.millisecondsSinceEpoch
        untilMs = selection.until?.millisecondsSinceEpoch
        statuses = selection.statuses.isEmpty ? nil : selection.statuses.map(\.rawValue)
        tag = selection.tag
        eventID = selection.eventID
        fromStreamID = selection.fromStreamID
        toStreamID = selection.toStreamID
        afterSeq = selection.afterSeq
        throughSeq = selection.throughSeq
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var selection: LedgerEventSelection? {
        var statusValues: [LedgerEvent.Status] = []
        for raw in statuses ?? [] {
            guard let status = LedgerEvent.Status(rawValue: raw) else { return nil }
            statusValues.append(status)
        }
        return LedgerEventSelection(
            types: types ?? [], source: source, since: sinceMs.map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
            until: untilMs.map(LedgerTimestamp.init(millisecondsSinceEpoch:)), statuses: statusValues, tag: tag,
            eventID: eventID, fromStreamID: fromStreamID, toStreamID: toStreamID, afterSeq: afterSeq,
            throughSeq: throughSeq)
    }

    static let columns = """
        id, started_at_ms, finished_at_ms, filter, dry_run, only, status, events_total, events_done, last_event_seq,
        operator, error
        """

    static func run(from row: SQLiteStatement, path: String) throws -> LedgerReplayRun {
        let id = row.int64(at: 0)
        func unreadable(_ what: String) -> LedgerError {
            LedgerError(
                .unexpectedData,
                "the \(what) of replay run \(id) in \(path) holds a value this program cannot read: the ledger was "
                    + "written by another version or edited by hand",
                path: path)
        }
        guard let filter = try? JSONDecoder().decode(Self.self, from: Data((row.string(at: 3) ?? "").utf8)),
            let selection = filter.selection
        else { throw unreadable("filter") }
        var only: [String]?
        if let text = row.string(at: 5) {
            guard let decoded = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else {
                throw unreadable("only")
            }
            only = decoded
        }
        guard let status = row.string(at: 6).flatMap(LedgerReplayRun.Status.init(rawValue:)) else {
            throw unreadable("status")
        }
        return LedgerReplayRun(
            id: id,
            startedAt: LedgerTimestamp(millisecondsSinceEpoch: row.int64(at: 1)),
            finishedAt: row.optionalInt64(at: 2).map(LedgerTimestamp.init(millisecondsSinceEpoch:)),
            request: filter.request,
            selection: selection,
            dryRun: row.int(at: 4) != 0,
            only: only,
            status: status,
            eventsTotal: row.optionalInt64(at: 7).map(Int.init),
            eventsDone: row.int(at: 8),
            lastEventSeq: row.optionalInt64(at: 9),
            operatorName: row.string(at: 10),
            error: row.string(at: 11)
        )
    }
}
