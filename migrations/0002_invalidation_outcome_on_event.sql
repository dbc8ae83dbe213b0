-- Tagwave ledger, schema version 2: a live delivery's invalidation outcome is kept on its event row.
--
-- Almost every event a worker records has exactly one outcome: the batch invalidating the tags its
-- rules (and handlers) asked for. A handler_outcomes row of its own, with its index, was a third of
-- the ledger's work per event on the worker's hot path. Such an outcome is now kept on the event:
-- * events.invalidation_handler names it (the rule handler, `rules` by default); NULL: none kept here
--   (closure outcomes, failed outcomes and replays' outcomes keep their handler_outcomes rows);
-- * its status is `succeeded`, its attempts, worker and entries removed are the event's own, and it
--   finished at the event's processed_at_ms;
-- * tag_log and tag_index rows of such an outcome have outcome_id = -events.seq (negative ids never
--   name a handler_outcomes row), so an audit by tag still finds the event and its handler.
ALTER TABLE events ADD COLUMN invalidation_handler TEXT;
ALTER TABLE events ADD COLUMN invalidation_started_at_ms INTEGER;
ALTER TABLE events ADD COLUMN invalidation_duration_us INTEGER;
ALTER TABLE events ADD COLUMN invalidation_tags TEXT;   -- JSON: [{"tag": "teacher:123", "removed": 3}, …]

-- The view of every invalidation, as before, now with the outcome's handler and worker whichever
-- table holds the outcome.
CREATE VIEW tag_invalidations_by_handler (tag, invalidated_at_ms, event_seq, entries_removed, handler, worker, replay_run_id) AS
    SELECT t.tag, t.invalidated_at_ms, t.event_seq, t.entries_removed,
        coalesce(o.handler, e.invalidation_handler), coalesce(o.worker, e.worker), o.replay_run_id
    FROM tag_invalidations t
    JOIN events e ON e.seq = t.event_seq
    LEFT JOIN handler_outcomes o ON o.id = t.outcome_id;
