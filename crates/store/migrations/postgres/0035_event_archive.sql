-- What `shanzhi archive` took out of the database (issue 18): one row per month of events
-- whose two partitions (`event_YYYYMM`, `event_log_YYYYMM`, or the first partition `legacy`)
-- were detached and moved, with every row referring to their events, into the schema
-- `shanzhi_archive`, then written to a file and dropped. `file` and `sha256` stay NULL while
-- the month waits in that schema for its file (an archive run that failed to write it is
-- finished by the next run). The counters behind the figures are not touched: the archived
-- months' figures stay as they were. A month put back by hand can be archived again: a new row.
CREATE TABLE event_archive (
    id          BIGSERIAL PRIMARY KEY,
    month       TEXT NOT NULL,              -- 'YYYYMM', or 'legacy' for the first partition
    first_id    BIGINT,                     -- the month's ids: [first_id, end_id); NULL: from the first
    end_id      BIGINT NOT NULL,
    events      BIGINT NOT NULL,
    lines       BIGINT NOT NULL,            -- timeline lines
    referring   TEXT NOT NULL DEFAULT '{}', -- JSON {table: rows moved or unlinked}
    archived_at BIGINT NOT NULL,
    file        TEXT,
    sha256      TEXT,
    exported_at BIGINT
);
CREATE INDEX event_archive_month_idx ON event_archive (month);

-- A month is detached only once no row elsewhere refers to its events; PostgreSQL checks every
-- table with a key to `event` while the event tables are locked, so each needs an index on its
-- key (these two had none; reports merged into a month are found by event_merged_idx, 0008).
CREATE INDEX notification_event_idx ON notification (event_id);
CREATE INDEX idempotency_event_idx ON idempotency (event_id);
