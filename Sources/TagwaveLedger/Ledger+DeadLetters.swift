import TagwaveSQLite

/// Which dead letters ``Ledger/deadLetters(matching:)`` returns. Every condition set must hold.
public struct LedgerDeadLetterFilter: Sendable, Hashable {
    /// Only those with this status; nil for all. Default ``LedgerDeadLetter/Status/open``.
    public var status: LedgerDeadLetter.Status?
    /// Only those with this reason code (`payload_not_object`, `delivery_limit`, …).
    public var reasonCode: String?
    /// Only those of this event type.
    public var type: String?
    /// Only these ids; nil for any.
    public var ids: [Int64]?
    /// Only those with this event id.
    public var eventID: String?
    /// At most this many, newest first. Default 100.
    public var limit: Int

    /// A filter; with no arguments, the newest 100 open dead letters.
    public init(
        status: LedgerDeadLetter.Status? = .open,
        reasonCode: String? = nil,
        type: String? = nil,
        ids: [Int64]? = nil,
        eventID: String? = nil,
        limit: Int = 100
    ) {
        self.status = status
        self.reasonCode = reasonCode
        self.type = type
        self.ids = ids
        self.eventID = eventID
        self.limit = limit
    }
}

/// How many dead letters the ledger holds, by status and, for open ones, by reason.
public struct LedgerDeadLetterCounts: Sendable, Hashable {
    /// Dead letters waiting for an operator.
    public var open: Int
    /// Dead letters an operator retried.
    public var retried: Int
    /// Dead letters an operator purged.
    public var purged: Int
    /// Open dead letters by reason code.
    public var openByReason: [String: Int]

    /// Counts.
    public init(open: Int = 0, retried: Int = 0, purged: Int = 0, openByReason: [String: Int] = [:]) {
        self.open = open
        self.retried = retried
        self.purged = purged
        self.openByReason = openByReason
    }
}

extension Ledger {
    /// The dead letter with ledger id `id`, whatever its status; nil when there is none.
    ///
    /// - Throws: ``LedgerError``.
    public func deadLetter(id: Int64) async throws -> LedgerDeadLetter? {
        try await deadLetters(matching: LedgerDeadLetterFilter(status: nil, ids: [id], limit: 1)).first
    }

    /// Dead letters matching `filter`, newest first.
    ///
    /// ```swift
    /// let poison = try await ledger.deadLetters(matching: .init(reasonCode: "payload_not_object"))
    /// ```
    /// - Throws: ``LedgerError``.
    public func deadLetters(matching filter: LedgerDeadLetterFilter) async throws -> [LedgerDeadLetter] {
        try await withDatabase { [path] database in
            try LedgerDeadLetterQuery.deadLetters(filter, in: database, reader: LedgerReader(path: path))
        }
    }

    /// Marks the open dead letters among `ids` as ``LedgerDeadLetter/Status/retried`` or
    /// ``LedgerDeadLetter/Status/purged``, noting who did it and when. Dead letters already retried
    /// or purged are left as they are.
    ///
    /// - Parameters:
    ///   - ids: ledger ids of dead letters.
    ///   - status: `.retried` or `.purged`.
    ///   - resolvedBy: the operator (`user@host`), for the audit.
    ///   - resolvedAt: when.
    /// - Returns: how many dead letters changed.
    /// - Throws: ``LedgerError``: `invalidInput` when `status` is `.open`.
    @discardableResult
    public func resolveDeadLetters(
        ids: [Int64],
        as status: LedgerDeadLetter.Status,
        by resolvedBy: String,
        at resolvedAt: LedgerTimestamp = .now()
    ) async throws -> Int {
        guard status != .open else {
            throw LedgerError(.invalidInput, "a dead letter is resolved as retried or purged, not open", path: path)
        }
        guard !ids.isEmpty else { return 0 }
        return try await withDatabase { database in
            try database.transaction(.immediate) {
                let update = try database.cachedStatement(
                    """
                    UPDATE dead_letters SET status = ?1, resolved_at_ms = ?2, resolved_by = ?3
                    WHERE id = ?4 AND status = 'open'
                    """
                )
                try update.bind(status.rawValue, at: 1)
                try update.bind(resolvedAt.millisecondsSinceEpoch, at: 2)
                try update.bind(resolvedBy, at: 3)
                var changed = 0
                for id in ids {
                    try update.bind(id, at: 4)
                    try update.execute()
                    changed += database.changes
                }
                return changed
            }
        }
    }

    /// How many dead letters there are, by status, and the open ones by reason.
    ///
    /// - Throws: ``LedgerError``.
    public func deadLetterCounts() async throws -> LedgerDeadLetterCounts {
        try await withDatabase { database in
            try database.transaction(.deferred) {
                var counts = LedgerDeadLetterCounts()
                let byStatus = try database.cachedStatement("SELECT status, count(*) FROM dead_letters GROUP BY status")
                while try byStatus.step() == .row {
                    let count = byStatus.int(at: 1)
                    switch byStatus.string(at: 0) {
                    case "open": counts.open = count
                    case "retried": counts.retried = count
                    case "purged": counts.purged = count
                    default: break
                    }
                }
                let byReason = try database.cachedStatement(
                    "SELECT reason_code, count(*) FROM dead_letters WHERE status = 'open' GROUP BY reason_code"
                )
                while try byReason.step() == .row {
                    counts.openByReason[byReason.string(at: 0) ?? ""] = byReason.int(at: 1)
                }
                return counts
            }
        }
    }
}

/// Dead-letter queries shared by ``Ledger/deadLetters(matching:)`` and ``Ledger/eventDetail(id:)``.
/// Runs on the ledger's thread.
enum LedgerDeadLetterQuery {
    static func deadLetters(
        _ filter: LedgerDeadLetterFilter,
        in database: SQLiteDatabase,
        reader: LedgerReader
    ) throws -> [LedgerDeadLetter] {
        var conditions: [String] = []
        var values: [LedgerSelectionSQL.Value] = []
        if let status = filter.status {
            conditions.append("status = ?")
            values.append(.text(status.rawValue))
        }
        if let reasonCode = filter.reasonCode {
            conditions.append("reason_code = ?")
            values.append(.text(reasonCode))
        }
        if let type = filter.type {
            conditions.append("type = ?")
            values.append(.text(type))
        }
        if let eventID = filter.eventID {
            conditions.append("event_id = ?")
            values.append(.text(eventID))
        }
        if let ids = filter.ids {
            guard !ids.isEmpty else { return [] }
            conditions.append("id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))")
            values += ids.map(LedgerSelectionSQL.Value.integer)
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let select = try database.cachedStatement(
            """
            SELECT id, event_id, stream, stream_id, type, fields, reason_code, reason, attempts,
                first_failed_at_ms, dead_lettered_at_ms, worker, status, resolved_at_ms, resolved_by
            FROM dead_letters \(whereClause)
            ORDER BY dead_lettered_at_ms DESC, id DESC
            LIMIT ?
            """
        )
        for (offset, value) in values.enumerated() {
            switch value {
            case .text(let text): try select.bind(text, at: Int32(offset + 1))
            case .integer(let number): try select.bind(number, at: Int32(offset + 1))
            }
        }
        try select.bind(max(0, filter.limit), at: Int32(values.count + 1))
        var deadLetters: [LedgerDeadLetter] = []
        while try select.step() == .row {
            deadLetters.append(try reader.deadLetter(from: select))
        }
        return deadLetters
    }
}
