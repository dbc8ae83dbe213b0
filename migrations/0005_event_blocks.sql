-- Tagwave ledger, schema version 5: the tag index keeps one document per block of events.
--
-- Schema 4 wrote an FTS5 document per event: one more statement per event and a term per tag and
-- event, a third of what SQLite spends per event on a worker's hot path (Benchmarks/SQLiteFloor).
-- Events come in blocks anyway: a worker records a batch of them in one transaction.
--
-- * event_blocks: one row per block, the events one ledger transaction recorded. Its events are
--   the seqs first_seq..last_seq (a block's range holds no other event; both ends are events of
--   it); it notes the earliest and latest occurred_at_ms among them, and the earliest and latest
--   processed_at_ms (when their invalidations took effect). Blocks never overlap.
-- * block_tags: one FTS5 document per block whose events invalidated tags (rowid =
--   event_blocks.first_seq): the distinct tags of its events' live invalidations
--   (events.invalidation_tags), each one token as in schema 4 (the upper-case hex of its UTF-8
--   bytes; `MATCH '"' || hex('teacher:1') || '"'`).
-- * A tag query finds the blocks in the index, then the events of those blocks whose
--   invalidation_tags name the tag. It reads at most one block's events per block that names the
--   tag, and skips an event without the tag by a substring test of its JSON: the writer writes
--   each tag as `{"tag":<the tag as a JSON string>`, a text no other part of that JSON can hold.
--   A time range skips the blocks whose processed_at_ms span misses it.
-- * outcome_tags (one document per handler_outcomes row with tags) is unchanged.
-- * Retention deletes a block's document before its events, and writes the block and its document
--   again for the events that remain (FTS5's 'delete' needs the tokens a document was written
--   with, and they are rebuilt from the events' JSON).
--
-- The events already recorded go into blocks of up to 1,000 consecutive seqs.
CREATE TABLE event_blocks (
    first_seq            INTEGER PRIMARY KEY,   -- the block's first event (events.seq)
    last_seq             INTEGER NOT NULL,      -- and its last
    first_occurred_at_ms INTEGER NOT NULL,      -- the earliest occurred_at_ms of its events
    last_occurred_at_ms  INTEGER NOT NULL,      -- and the latest
    first_processed_at_ms INTEGER,              -- the earliest processed_at_ms of its events; NULL: none has one
    last_processed_at_ms  INTEGER,              -- and the latest
    CHECK (last_seq >= first_seq)
) STRICT;

INSERT INTO event_blocks (first_seq, last_seq, first_occurred_at_ms, last_occurred_at_ms, first_processed_at_ms, last_processed_at_ms)
    SELECT min(seq), max(seq), min(occurred_at_ms), max(occurred_at_ms), min(processed_at_ms), max(processed_at_ms)
    FROM events GROUP BY (seq - 1) / 1000;

CREATE VIRTUAL TABLE block_tags USING fts5(tags, content='', columnsize=0, detail=none, tokenize='ascii');

INSERT INTO block_tags (rowid, tags)
    SELECT first_seq, tags FROM (
        SELECT b.first_seq,
            (SELECT group_concat(hex(t.tag), ' ') FROM (
                SELECT DISTINCT j.value ->> '$.tag' AS tag
                FROM events e, json_each(e.invalidation_tags) j
                WHERE e.seq BETWEEN b.first_seq AND b.last_seq AND e.invalidation_tags IS NOT NULL) t) AS tags
        FROM event_blocks b)
    WHERE tags IS NOT NULL ORDER BY first_seq;

DROP TABLE event_tags;

-- When events occurred is indexed per block too. events_by_time_type (occurred_at_ms, type), one more
-- B-tree a worker updated per event, goes: a time range selects the blocks whose span meets it and
-- reads their events by seq, and "the newest events" reads blocks newest first by their latest time
-- (event_blocks_by_last_occurrence) until no block left can hold a newer event than those found.
-- A block's span is as wide as its events' times: an event spooled for an hour and recorded with a
-- live batch makes that block's span an hour long, and a query for that hour reads the block too.
DROP INDEX events_by_time_type;
CREATE INDEX event_blocks_by_last_occurrence ON event_blocks (last_occurred_at_ms);
