-- Tagwave ledger, schema version 4: the tag index is an SQLite full-text (FTS5) index.
--
-- Finding "every invalidation of tag X" needs an index keyed by tag, and a B-tree keyed by tag is
-- updated at a random place per tag and event. Schema 1 wrote each tag to tag_log and later moved it
-- into sorted runs of tag_index: two writes, a sort and a delete per tag, a fifth of a worker's CPU.
-- FTS5 is SQLite's own log-structured inverted index: it buffers a transaction's terms in memory,
-- writes them as one sorted segment and merges segments incrementally, in C.
--
-- * event_tags: one document per event whose live invalidation outcome is kept on the event row
--   (migration 0002), rowid = events.seq.
-- * outcome_tags: one document per handler_outcomes row with tags, rowid = handler_outcomes.id.
-- * A document is the outcome's distinct tags, each as one token: the upper-case hex of its UTF-8
--   bytes (what SQL's hex() gives), separated by spaces. The `ascii` tokenizer keeps such a token
--   whole, so a tag matches only itself, whatever characters it contains. Look a tag up with
--   `MATCH '"' || hex('teacher:1') || '"'`. FTS5 keeps a token's first 32,768 bytes: tags longer
--   than 16 KiB that share their first 16 KiB share a token, and a query checks the JSON for the tag.
-- * Both tables are contentless (they keep no copy of the text) and keep no positions (detail=none):
--   the tags themselves are on the rows, in events.invalidation_tags and handler_outcomes.tags (JSON).
--   Deleting a document takes the tokens it was written with (FTS5's 'delete' command); retention
--   rebuilds them from that JSON.
-- * The views tag_invalidations and tag_invalidations_by_handler keep their columns, now read from
--   that JSON: a full scan, for ad-hoc SQL. `tagwave audit tag` and the Ledger API use the index.
CREATE VIRTUAL TABLE event_tags USING fts5(tags, content='', columnsize=0, detail=none, tokenize='ascii');
CREATE VIRTUAL TABLE outcome_tags USING fts5(tags, content='', columnsize=0, detail=none, tokenize='ascii');

INSERT INTO event_tags (rowid, tags)
    SELECT e.seq, (SELECT group_concat(hex(t.tag), ' ') FROM (SELECT DISTINCT json_extract(j.value, '$.tag') AS tag FROM json_each(e.invalidation_tags) j) t)
    FROM events e WHERE e.invalidation_tags IS NOT NULL ORDER BY e.seq;
INSERT INTO outcome_tags (rowid, tags)
    SELECT o.id, (SELECT group_concat(hex(t.tag), ' ') FROM (SELECT DISTINCT json_extract(j.value, '$.tag') AS tag FROM json_each(o.tags) j) t)
    FROM handler_outcomes o WHERE o.tags IS NOT NULL ORDER BY o.id;

DROP VIEW tag_invalidations_by_handler;
DROP VIEW tag_invalidations;
DROP TABLE tag_index;
DROP TABLE tag_runs;
DROP TABLE tag_log;

-- One row per (outcome, tag), as before: outcome_id is -events.seq for an outcome kept on its event row.
CREATE VIEW tag_invalidations (tag, invalidated_at_ms, outcome_id, event_seq, entries_removed) AS
    SELECT json_extract(j.value, '$.tag'), e.processed_at_ms, -e.seq, e.seq, json_extract(j.value, '$.removed')
    FROM events e, json_each(e.invalidation_tags) j WHERE e.invalidation_tags IS NOT NULL
    UNION ALL
    SELECT json_extract(j.value, '$.tag'), o.finished_at_ms, o.id, o.event_seq, json_extract(j.value, '$.removed')
    FROM handler_outcomes o, json_each(o.tags) j WHERE o.tags IS NOT NULL;

CREATE VIEW tag_invalidations_by_handler (tag, invalidated_at_ms, event_seq, entries_removed, handler, worker, replay_run_id) AS
    SELECT t.tag, t.invalidated_at_ms, t.event_seq, t.entries_removed,
        coalesce(o.handler, e.invalidation_handler), coalesce(o.worker, e.worker), o.replay_run_id
    FROM tag_invalidations t
    JOIN events e ON e.seq = t.event_seq
    LEFT JOIN handler_outcomes o ON o.id = t.outcome_id;
