-- Tagwave ledger, schema version 1.
--
-- A released migration is never edited: the ledger stores each file's SHA-256 and refuses to
-- open when an applied file changed. Change the schema by adding 0002_….sql; later migrations
-- only add (tables, columns with defaults, indexes).
--
-- Conventions
-- * Times are Unix epoch milliseconds, UTC (`*_at_ms`); durations are microseconds (`*_us`).
-- * A Redis stream entry id `1700000000000-3` is kept as text (`*_id`, for people) and as two
--   integers (`*_ms`, `*_seq`) that order, compare and MIN/MAX as Redis orders entry ids.
-- * JSON columns hold text as received; SQLite's json_* functions query them.
-- * Allowed values are checked with `a = 'x' OR a = 'y'`, never `a IN ('x', 'y', 'z')`: SQLite
--   builds a temporary index for an IN list of three or more at every insert.
-- * Child rows point at their event by `events.seq` (an integer), not by the text event id:
--   smaller rows and indexes. Join on `events.seq` to get `event_id`.
-- * Retention deletes the oldest events first by `seq` (recording order follows receive
--   time), so `received_at_ms` needs no index; deleting an event deletes its outcomes
--   (ON DELETE CASCADE; the ledger turns foreign_keys on); tag runs go by their time span.

-- One row per replay an operator ran (`tagwave replay`), also while it runs, so an interrupted
-- replay can resume after `last_event_seq`.
CREATE TABLE replay_runs (
    id             INTEGER PRIMARY KEY,
    started_at_ms  INTEGER NOT NULL,
    finished_at_ms INTEGER,
    filter         TEXT    NOT NULL,          -- JSON: the time range, id range and types asked for
    dry_run        INTEGER NOT NULL CHECK (dry_run = 0 OR dry_run = 1),
    only           TEXT,                      -- JSON: handler names or kinds it was limited to; NULL: all
    status         TEXT    NOT NULL DEFAULT 'running'
                   CHECK (status = 'running' OR status = 'completed' OR status = 'interrupted'
                          OR status = 'failed'),
    events_total   INTEGER,                   -- known once the range is counted
    events_done    INTEGER NOT NULL DEFAULT 0,
    last_event_seq INTEGER,                   -- replays go in `events.seq` order; resume after this
    operator       TEXT,                      -- who ran it (user@host), for the audit
    error          TEXT                       -- why it failed or was interrupted
) STRICT;

CREATE INDEX replay_runs_by_start ON replay_runs (started_at_ms);

-- Every event the worker pool took from the stream, recorded once per event id however often it
-- was delivered or replayed.
CREATE TABLE events (
    seq             INTEGER PRIMARY KEY,      -- recording order in this ledger
    event_id        TEXT    NOT NULL UNIQUE,  -- the producer's `id`, else the stream entry id
    stream          TEXT    NOT NULL,
    stream_id       TEXT    NOT NULL,
    stream_ms       INTEGER NOT NULL,
    stream_seq      INTEGER NOT NULL,
    type            TEXT    NOT NULL,         -- dotted, e.g. session.created
    source          TEXT,                     -- the producing service
    occurred_at_ms  INTEGER NOT NULL,         -- the producer's `occurred_at`, else the entry id's time
    received_at_ms  INTEGER NOT NULL,         -- when a worker read it
    payload         TEXT    NOT NULL,         -- the JSON object as published
    metadata        TEXT,                     -- JSON object of the entry's other fields; NULL: none
    traceparent     TEXT,                     -- W3C trace context
    status          TEXT    NOT NULL
                    CHECK (status = 'processed' OR status = 'dead_lettered' OR status = 'lost' OR status = 'skipped'),
    attempts        INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 0),  -- deliveries it took
    worker          TEXT    NOT NULL,         -- the consumer that recorded it
    processed_at_ms INTEGER,
    duration_us     INTEGER,                  -- handling time, all handlers
    entries_removed INTEGER,                  -- cache entries its invalidations removed
    error           TEXT                      -- the last failure, for dead_lettered and lost
) STRICT;

CREATE INDEX events_by_type_time ON events (type, occurred_at_ms);
CREATE INDEX events_by_time ON events (occurred_at_ms);
CREATE INDEX events_by_stream_position ON events (stream, stream_ms, stream_seq);
CREATE INDEX events_by_status ON events (status, occurred_at_ms) WHERE status <> 'processed';

-- What each handler did with an event: one row per handler run; a replay adds rows with its
-- replay_run_id, a live delivery has none.
CREATE TABLE handler_outcomes (
    id              INTEGER PRIMARY KEY,
    event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    handler         TEXT    NOT NULL,         -- the rule or closure name
    kind            TEXT    NOT NULL CHECK (kind = 'invalidate' OR kind = 'warm' OR kind = 'closure'),
    status          TEXT    NOT NULL CHECK (status = 'succeeded' OR status = 'failed' OR status = 'skipped'),
    attempts        INTEGER NOT NULL DEFAULT 1 CHECK (attempts >= 0),
    entries_removed INTEGER,
    duration_us     INTEGER,
    worker          TEXT    NOT NULL,
    error           TEXT,
    started_at_ms   INTEGER NOT NULL,
    finished_at_ms  INTEGER NOT NULL,
    replay_run_id   INTEGER REFERENCES replay_runs (id) ON DELETE SET NULL,
    tags            TEXT                      -- JSON: [{"tag": "teacher:123", "removed": 3}, …]; NULL: none
) STRICT;

CREATE INDEX handler_outcomes_by_event ON handler_outcomes (event_seq);
CREATE INDEX handler_outcomes_by_replay ON handler_outcomes (replay_run_id) WHERE replay_run_id IS NOT NULL;

-- Which tags each outcome invalidated, for "which events touched tag teacher:123 last week".
--
-- An index keyed by tag takes every new row at a random place: each row dirties its own page,
-- which made it the costliest write of a batch. So tags go in two steps, each an append:
-- * tag_log: every invalidation as it is recorded, in recording order (no index);
-- * tag_index: the log compacted into sorted runs. A compaction moves the oldest log rows into
--   a new run sorted by tag (one append) and notes the run's time span in tag_runs. A query
--   seeks (run, tag) in every run overlapping its time range and scans the short log.
-- The view tag_invalidations shows both, for hand-written audit queries.
-- An outcome's own tags are also kept with it (handler_outcomes.tags), so reading an event
-- needs neither table.
CREATE TABLE tag_log (
    id                INTEGER PRIMARY KEY,
    tag               TEXT    NOT NULL,
    invalidated_at_ms INTEGER NOT NULL,
    outcome_id        INTEGER NOT NULL,       -- handler_outcomes.id
    event_seq         INTEGER NOT NULL,       -- events.seq
    entries_removed   INTEGER                 -- when the invalidation reported it per tag
) STRICT;

CREATE TABLE tag_runs (
    run           INTEGER PRIMARY KEY,
    first_at_ms   INTEGER NOT NULL,           -- the run's earliest invalidated_at_ms
    last_at_ms    INTEGER NOT NULL,           -- and its latest
    row_count     INTEGER NOT NULL,
    last_log_id   INTEGER NOT NULL,           -- tag_log rows up to this id went into this run
    created_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE tag_index (
    run               INTEGER NOT NULL,       -- tag_runs.run
    tag               TEXT    NOT NULL,
    invalidated_at_ms INTEGER NOT NULL,
    outcome_id        INTEGER NOT NULL,
    event_seq         INTEGER NOT NULL,
    entries_removed   INTEGER,
    PRIMARY KEY (run, tag, invalidated_at_ms, outcome_id)
) STRICT, WITHOUT ROWID;

CREATE VIEW tag_invalidations (tag, invalidated_at_ms, outcome_id, event_seq, entries_removed) AS
    SELECT tag, invalidated_at_ms, outcome_id, event_seq, entries_removed FROM tag_index
    UNION ALL
    SELECT tag, invalidated_at_ms, outcome_id, event_seq, entries_removed FROM tag_log;

-- Cache warming jobs scheduled by handlers or rules, and how they ended.
CREATE TABLE warm_jobs (
    id              INTEGER PRIMARY KEY,
    target          TEXT    NOT NULL,         -- the URL (HTTP warmer) or the warmer's name
    event_seq       INTEGER REFERENCES events (seq) ON DELETE CASCADE,  -- the first event that asked
    status          TEXT    NOT NULL DEFAULT 'scheduled'
                    CHECK (status = 'scheduled' OR status = 'succeeded' OR status = 'failed'
                           OR status = 'skipped' OR status = 'coalesced'),
    http_status     INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    duration_us     INTEGER,
    error           TEXT,
    worker          TEXT,
    scheduled_at_ms INTEGER NOT NULL,
    due_at_ms       INTEGER,                  -- delayed warming: not before this time
    finished_at_ms  INTEGER,
    replay_run_id   INTEGER REFERENCES replay_runs (id) ON DELETE SET NULL
) STRICT;

CREATE INDEX warm_jobs_by_event ON warm_jobs (event_seq);
CREATE INDEX warm_jobs_by_target ON warm_jobs (target, scheduled_at_ms);
CREATE INDEX warm_jobs_by_time ON warm_jobs (scheduled_at_ms);
CREATE INDEX warm_jobs_by_replay ON warm_jobs (replay_run_id) WHERE replay_run_id IS NOT NULL;

-- Where each consumer of each group is in each stream. Positions only move forward.
CREATE TABLE consumer_offsets (
    stream             TEXT    NOT NULL,
    group_name         TEXT    NOT NULL,
    consumer           TEXT    NOT NULL,
    last_delivered_id  TEXT,
    last_delivered_ms  INTEGER,
    last_delivered_seq INTEGER,
    last_acked_id      TEXT,
    last_acked_ms      INTEGER,
    last_acked_seq     INTEGER,
    updated_at_ms      INTEGER NOT NULL,
    PRIMARY KEY (stream, group_name, consumer)
) STRICT, WITHOUT ROWID;

-- Entries that will not be handled without a person: poison (undecodable) entries at once,
-- others after the delivery limit. `fields` keeps the raw entry so it can be retried as it was.
CREATE TABLE dead_letters (
    id                  INTEGER PRIMARY KEY,
    event_id            TEXT    NOT NULL,
    stream              TEXT    NOT NULL,
    stream_id           TEXT    NOT NULL,
    stream_ms           INTEGER NOT NULL,
    stream_seq          INTEGER NOT NULL,
    type                TEXT,                 -- NULL for a poison entry without one
    fields              TEXT    NOT NULL,     -- JSON array of [name, value] pairs, in entry order
    reason_code         TEXT    NOT NULL,     -- machine-readable, e.g. poison.missing_type
    reason              TEXT    NOT NULL,     -- a sentence for people
    attempts            INTEGER NOT NULL CHECK (attempts >= 0),
    first_failed_at_ms  INTEGER,
    dead_lettered_at_ms INTEGER NOT NULL,
    worker              TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'open'
                        CHECK (status = 'open' OR status = 'retried' OR status = 'purged'),
    resolved_at_ms      INTEGER,
    resolved_by         TEXT                  -- the operator who retried or purged it
) STRICT;

-- A redelivered entry (worker killed after the commit, before XACK) is dead-lettered once.
CREATE UNIQUE INDEX dead_letters_open_once ON dead_letters (stream, stream_id) WHERE status = 'open';
CREATE INDEX dead_letters_by_status ON dead_letters (status, dead_lettered_at_ms);
CREATE INDEX dead_letters_by_event ON dead_letters (event_id);
