-- Counter deltas waiting to be added to the counters (issue 17, ingest). A report or a move
-- appends its deltas here, one row per delta, in its own transaction: an append touches the
-- last page of one table instead of the ≈ 50 counter rows (every ancestor × whole, category,
-- department × day, month, year) spread over `event_stat`. A fold (`event::fold_stats`)
-- moves the rows into `event_stat` and `event_close_hist` and deletes them in one
-- transaction, about once a second and before any read of the counters, so the figures
-- always equal a recount, also after a crash: the deltas are as durable as the event.
CREATE TABLE stat_journal (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grid_code         TEXT COLLATE "C" NOT NULL,
    day               BIGINT NOT NULL,   -- yyyymmdd, China time
    category_id       BIGINT NOT NULL,
    department_id     BIGINT,
    close_minutes     BIGINT,            -- set when the move closed the order (the histogram)
    reported          BIGINT NOT NULL DEFAULT 0,
    accepted          BIGINT NOT NULL DEFAULT 0,
    dispatched        BIGINT NOT NULL DEFAULT 0,
    returned          BIGINT NOT NULL DEFAULT 0,
    closed            BIGINT NOT NULL DEFAULT 0,
    closed_on_time    BIGINT NOT NULL DEFAULT 0,
    reopened          BIGINT NOT NULL DEFAULT 0,
    rated             BIGINT NOT NULL DEFAULT 0,
    rating_sum        BIGINT NOT NULL DEFAULT 0,
    satisfied         BIGINT NOT NULL DEFAULT 0,
    closed_village    BIGINT NOT NULL DEFAULT 0,
    closed_town       BIGINT NOT NULL DEFAULT 0,
    closed_county     BIGINT NOT NULL DEFAULT 0,
    closed_city       BIGINT NOT NULL DEFAULT 0,
    closed_province   BIGINT NOT NULL DEFAULT 0,
    close_minutes_sum BIGINT NOT NULL DEFAULT 0
);

-- The risk rules count a grid's reports right after each report, from the counters and the
-- deltas not yet folded (`risk::grid_category_count`): one indexed range here.
CREATE INDEX stat_journal_grid_idx ON stat_journal (grid_code, day);
