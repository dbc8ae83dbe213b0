/// The tag index (see `migrations/0004_tag_search.sql`): two FTS5 tables of one document per
/// invalidation outcome, each tag one token. Runs on the ledger's thread.
enum LedgerTagSearch {
    /// The token of `tag`: the upper-case hex of its UTF-8 bytes, as SQL's `hex()` writes it. The
    /// `ascii` tokenizer keeps it whole, so it matches exactly this tag (up to FTS5's 32,768 bytes
    /// per token: tags past 16 KiB that share their first 16 KiB share a token).
    static func token(_ tag: String) -> String {
        var bytes: [UInt8] = []
        appendToken(tag.utf8, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An FTS5 query for exactly `tag`.
    static func query(_ tag: String) -> String {
        "\"" + token(tag) + "\""
    }

    /// The outcome's tags without repeats (compared byte for byte, as SQL's `DISTINCT` does):
    /// `tags` itself when it has none, the usual case. Runs per outcome on the worker's hot path:
    /// no set and no allocation for the usual few tags.
    static func distinct(_ tags: [LedgerTagInvalidation]) -> [LedgerTagInvalidation] {
        if tags.count <= 16 {
            let repeats = tags.indices.dropFirst().contains { later in
                tags[..<later].contains { $0.tag.utf8.elementsEqual(tags[later].tag.utf8) }
            }
            guard repeats else { return tags }
            var kept: [LedgerTagInvalidation] = []
            for tag in tags where !kept.contains(where: { $0.tag.utf8.elementsEqual(tag.tag.utf8) }) { kept.append(tag) }
            return kept
        }
        // Tokens are ASCII, so comparing them compares the tags' bytes.
        var seen = Set<String>()
        let kept = tags.filter { seen.insert(token($0.tag)).inserted }
        return kept.count == tags.count ? tags : kept
    }

    /// Appends the document of `tags`: their tokens, space-separated.
    static func appendDocument(_ tags: [LedgerTagInvalidation], to document: inout [UInt8]) {
        for (index, tag) in tags.enumerated() {
            if index > 0 { document.append(UInt8(ascii: " ")) }
            appendToken(tag.tag.utf8, to: &document)
        }
    }

    private static func appendToken(_ tag: String.UTF8View, to document: inout [UInt8]) {
        let digits: StaticString = "0123456789ABCDEF"
        tag.withBytes { tag in
            digits.withUTF8Buffer { digits in
                for byte in tag {
                    document.append(digits[Int(byte >> 4)])
                    document.append(digits[Int(byte & 0x0F)])
                }
            }
        }
    }

    /// SQL for the document of the tags in the JSON column `column`, as ``appendDocument(_:to:)`` wrote it
    /// (for FTS5's `delete`, which needs the tokens a document was written with).
    static func documentSQL(of column: String) -> String {
        """
        (SELECT group_concat(hex(t.tag), ' ') FROM (SELECT DISTINCT json_extract(j.value, '$.tag') AS tag FROM json_each(\(column)) j) t)
        """
    }

    /// Writes a live outcome's document (rowid: its event's seq).
    static let insertEventDocument = "INSERT INTO event_tags (rowid, tags) VALUES (?1, ?2)"
    /// Writes a `handler_outcomes` row's document (rowid: its id).
    static let insertOutcomeDocument = "INSERT INTO outcome_tags (rowid, tags) VALUES (?1, ?2)"

    /// Removes the documents of events `seq <= ?1` received before `?2`, and of their outcomes
    /// (before the events are deleted: the documents are rebuilt from their rows).
    static let deleteDocuments = [
        """
        INSERT INTO event_tags (event_tags, rowid, tags)
        SELECT 'delete', e.seq, \(documentSQL(of: "e.invalidation_tags")) FROM events e
        WHERE e.seq <= ?1 AND e.received_at_ms < ?2 AND e.invalidation_tags IS NOT NULL
        """,
        """
        INSERT INTO outcome_tags (outcome_tags, rowid, tags)
        SELECT 'delete', o.id, \(documentSQL(of: "o.tags")) FROM events e JOIN handler_outcomes o ON o.event_seq = e.seq
        WHERE e.seq <= ?1 AND e.received_at_ms < ?2 AND o.tags IS NOT NULL
        """,
    ]

    /// SQL for the seqs of events with an outcome that invalidated the tag of the FTS5 query in
    /// `parameter` (a ``query(_:)``), for `e.seq IN (…)`. `parameter` appears twice: name it, or bind it twice.
    static func eventsWithTag(_ parameter: String) -> String {
        """
        SELECT rowid FROM event_tags WHERE event_tags MATCH \(parameter)
        UNION ALL
        SELECT o.event_seq FROM outcome_tags JOIN handler_outcomes o ON o.id = outcome_tags.rowid WHERE outcome_tags MATCH \(parameter)
        """
    }

    /// Rows `(invalidated_at_ms, seq, outcome_id, tags JSON, handler, worker, replay_run_id)` of every
    /// invalidation matching the FTS5 query `?1` with `?2 <= invalidated_at_ms < ?3`. `outcome_id` is
    /// `-seq` for the outcome kept on the event row.
    static let invalidationsOfTag = """
        SELECT * FROM (
            SELECT e.processed_at_ms AS invalidated_at_ms, e.seq AS seq, -e.seq AS outcome_id, e.invalidation_tags AS tags,
                e.invalidation_handler AS handler, e.worker AS worker, NULL AS replay_run_id
            FROM event_tags JOIN events e ON e.seq = event_tags.rowid WHERE event_tags MATCH ?1
            UNION ALL
            SELECT o.finished_at_ms, o.event_seq, o.id, o.tags, o.handler, o.worker, o.replay_run_id
            FROM outcome_tags JOIN handler_outcomes o ON o.id = outcome_tags.rowid WHERE outcome_tags MATCH ?1
        ) WHERE invalidated_at_ms >= ?2 AND invalidated_at_ms < ?3
        """
}
