/// The tag index (see `migrations/0004_tag_search.sql` and `0005_event_blocks.sql`): FTS5 tables
/// whose documents hold tags, each tag one token: `block_tags`, one document per block of events
/// (their live invalidations' tags), and `outcome_tags`, one per `handler_outcomes` row. Runs on the
/// ledger's thread.
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

    /// What an event's `invalidation_tags` JSON holds when it names `tag`, as `JSONText.appendTags`
    /// writes it: `{"tag":"teacher:1"`. No other part of that JSON can hold this text (a quote
    /// inside a string is escaped), so `instr` finds exactly the events that name the tag.
    static func needle(_ tag: String) -> String {
        var text = Array(#"{"tag":"#.utf8)
        JSONText.appendString(tag.utf8, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// The distinct tags of a block's events, compared byte for byte as SQL's `DISTINCT` compares
    /// them (Swift's `==` on strings would merge canonically equivalent tags, and FTS5's `delete`
    /// needs the very tokens a document was written with).
    ///
    /// A table of its own rather than a `Set`: it runs for every tag of every event on the worker's
    /// hot path, and `Hasher` (SipHash) cost more than the rest of the insertion.
    struct BlockTags {
        /// The distinct tags, in the order first seen.
        private var tags: [String] = []
        private var hashes: [UInt64] = []
        /// Open addressing, linear probing: an index into `tags`, or -1. Never more than half full.
        private var slots: [Int32] = Array(repeating: -1, count: 64)

        var isEmpty: Bool { tags.isEmpty }

        mutating func formUnion(_ tags: [LedgerTagInvalidation]) {
            for tag in tags { insert(tag.tag) }
        }

        private mutating func insert(_ tag: String) {
            let hash = tag.utf8.withBytes(Self.hash)
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 {
                let index = Int(slots[slot])
                if hashes[index] == hash && LedgerTagSearch.sameBytes(tags[index], tag) { return }
                slot = (slot + 1) & mask
            }
            slots[slot] = Int32(tags.count)
            tags.append(tag)
            hashes.append(hash)
            if tags.count * 2 > slots.count { grow() }
        }

        private mutating func grow() {
            slots = Array(repeating: -1, count: slots.count * 2)
            let mask = slots.count - 1
            for (index, hash) in hashes.enumerated() {
                var slot = Int(truncatingIfNeeded: hash) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(index)
            }
        }

        /// FNV-1a over the bytes, then a finalizer that spreads them into the low bits used as slots.
        private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            hash ^= hash >> 33
            hash = hash &* 0xFF51_AFD7_ED55_8CCD
            return hash ^ (hash >> 33)
        }

        /// Appends the block's document: its tags' tokens, space-separated.
        func appendDocument(to document: inout [UInt8]) {
            for (index, tag) in tags.enumerated() {
                if index > 0 { document.append(UInt8(ascii: " ")) }
                LedgerTagSearch.appendToken(tag.utf8, to: &document)
            }
        }
    }

    /// Whether two strings have the same UTF-8 bytes (Swift's `==` also calls canonically
    /// equivalent strings equal), compared in place.
    static func sameBytes(_ one: String, _ other: String) -> Bool {
        one.utf8.count == other.utf8.count
            && one.utf8.withBytes { one in other.utf8.withBytes { one.elementsEqual($0) } }
    }

    /// The outcome's tags without repeats (compared byte for byte, as SQL's `DISTINCT` does):
    /// `tags` itself when it has none, the usual case. Runs per outcome on the worker's hot path:
    /// no set and no allocation for the usual few tags.
    static func distinct(_ tags: [LedgerTagInvalidation]) -> [LedgerTagInvalidation] {
        if tags.count <= 16 {
            let repeats = tags.indices.dropFirst().contains { later in
                tags[..<later].contains { sameBytes($0.tag, tags[later].tag) }
            }
            guard repeats else { return tags }
            var kept: [LedgerTagInvalidation] = []
            for tag in tags where !kept.contains(where: { sameBytes($0.tag, tag.tag) }) { kept.append(tag) }
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

    fileprivate static func appendToken(_ tag: String.UTF8View, to document: inout [UInt8]) {
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

    /// SQL for the document of the events `first ... last` (SQL expressions), as ``BlockTags`` wrote
    /// it; `NULL` when none of them invalidated a tag.
    static func blockDocumentSQL(first: String, last: String) -> String {
        """
        (SELECT group_concat(hex(t.tag), ' ') FROM (
            SELECT DISTINCT j.value ->> '$.tag' AS tag FROM events e, json_each(e.invalidation_tags) j
            WHERE e.seq BETWEEN \(first) AND \(last) AND e.invalidation_tags IS NOT NULL) t)
        """
    }

    /// Records a block: `?1` its first seq, `?2` its last, `?3` and `?4` the earliest and latest time
    /// its events occurred, `?5` and `?6` the earliest and latest time they were processed.
    static let insertBlock = """
        INSERT INTO event_blocks (
            first_seq, last_seq, first_occurred_at_ms, last_occurred_at_ms, first_processed_at_ms, last_processed_at_ms
        ) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
        """
    /// Writes a block's document (rowid: its first seq).
    static let insertBlockDocument = "INSERT INTO block_tags (rowid, tags) VALUES (?1, ?2)"
    /// Writes a `handler_outcomes` row's document (rowid: its id).
    static let insertOutcomeDocument = "INSERT INTO outcome_tags (rowid, tags) VALUES (?1, ?2)"

    /// Removes the documents of the outcomes of events `seq <= ?1` received before `?2` (before the
    /// events are deleted: the documents are rebuilt from their rows).
    static let deleteOutcomeDocuments = """
        INSERT INTO outcome_tags (outcome_tags, rowid, tags)
        SELECT 'delete', o.id, \(documentSQL(of: "o.tags")) FROM events e JOIN handler_outcomes o ON o.event_seq = e.seq
        WHERE e.seq <= ?1 AND e.received_at_ms < ?2 AND o.tags IS NOT NULL
        """

    /// Removes the document of the block `?1 ... ?2`, rebuilt from its events' rows.
    static let deleteBlockDocument = """
        INSERT INTO block_tags (block_tags, rowid, tags)
        SELECT 'delete', ?1, tags FROM (SELECT \(blockDocumentSQL(first: "?1", last: "?2")) AS tags) WHERE tags IS NOT NULL
        """

    /// Records what remains of the block `?1 ... ?2` after some of its events were deleted (the
    /// block's row itself deleted first): its row, then (``insertRemainingBlockDocument``) its document.
    static let insertRemainingBlock = """
        INSERT INTO event_blocks (
            first_seq, last_seq, first_occurred_at_ms, last_occurred_at_ms, first_processed_at_ms, last_processed_at_ms)
        SELECT min(seq), max(seq), min(occurred_at_ms), max(occurred_at_ms), min(processed_at_ms), max(processed_at_ms)
        FROM events WHERE seq BETWEEN ?1 AND ?2
        HAVING count(*) > 0
        """
    static let insertRemainingBlockDocument = """
        INSERT INTO block_tags (rowid, tags)
        SELECT first_seq, tags FROM (
            SELECT b.first_seq, \(blockDocumentSQL(first: "b.first_seq", last: "b.last_seq")) AS tags
            FROM event_blocks b WHERE b.first_seq BETWEEN ?1 AND ?2)
        WHERE tags IS NOT NULL
        """

    /// SQL for the seqs of events with an outcome that invalidated a tag, for `e.seq IN (…)`:
    /// `query` is the parameter of its FTS5 query (a ``query(_:)``), `needle` that of its
    /// ``needle(_:)``; they appear in the order query, needle, query (name them, or bind three values).
    static func eventsWithTag(query: String, needle: String) -> String {
        """
        SELECT e.seq FROM block_tags JOIN event_blocks b ON b.first_seq = block_tags.rowid
            JOIN events e ON e.seq BETWEEN b.first_seq AND b.last_seq
            WHERE block_tags MATCH \(query) AND instr(e.invalidation_tags, \(needle)) > 0
        UNION ALL
        SELECT o.event_seq FROM outcome_tags JOIN handler_outcomes o ON o.id = outcome_tags.rowid WHERE outcome_tags MATCH \(query)
        """
    }

    /// Rows `(invalidated_at_ms, seq, outcome_id, tags JSON, handler, worker, replay_run_id)` of every
    /// invalidation matching the FTS5 query `?1` (and, for the outcomes kept on event rows, the
    /// ``needle(_:)`` `?6`) with `?2 <= invalidated_at_ms < ?3`. `outcome_id` is `-seq` for the
    /// outcome kept on the event row, which took effect when its event was processed: a block whose
    /// events were all processed outside the range is not read.
    static let invalidationsOfTag = """
        SELECT * FROM (
            SELECT e.processed_at_ms AS invalidated_at_ms, e.seq AS seq, -e.seq AS outcome_id, e.invalidation_tags AS tags,
                e.invalidation_handler AS handler, e.worker AS worker, NULL AS replay_run_id
            FROM block_tags JOIN event_blocks b ON b.first_seq = block_tags.rowid
            JOIN events e ON e.seq BETWEEN b.first_seq AND b.last_seq
            WHERE block_tags MATCH ?1 AND b.last_processed_at_ms >= ?2 AND b.first_processed_at_ms < ?3
                AND instr(e.invalidation_tags, ?6) > 0
            UNION ALL
            SELECT o.finished_at_ms, o.event_seq, o.id, o.tags, o.handler, o.worker, o.replay_run_id
            FROM outcome_tags JOIN handler_outcomes o ON o.id = outcome_tags.rowid WHERE outcome_tags MATCH ?1
        ) WHERE invalidated_at_ms >= ?2 AND invalidated_at_ms < ?3
        """
}
