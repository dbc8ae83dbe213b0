-- Tagwave ledger, schema version 3: one index on events' times instead of three secondary indexes.
--
-- Every index on `events` is one more B-tree a worker updates per event on its hot path. Three
-- answered operator queries that are rare next to the worker's writes:
-- * events_by_type_time (type, occurred_at_ms) and events_by_time (occurred_at_ms) are replaced by
--   events_by_time_type (occurred_at_ms, type): a time range is a range of it, and a type filter is
--   checked inside it without visiting the table, so "newest events of type X" stays an index scan;
-- * events_by_stream_position (stream, stream_ms, stream_seq) is dropped: selecting events by a range
--   of stream entry ids (`tagwave replay --from-id/--to-id`) scans the table
--   instead, which takes seconds on a ledger of millions of events and happens once per operator action.
DROP INDEX events_by_type_time;
DROP INDEX events_by_time;
DROP INDEX events_by_stream_position;
CREATE INDEX events_by_time_type ON events (occurred_at_ms, type);
