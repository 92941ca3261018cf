-- The closed loop: categories, events (work orders), their timeline, photos, idempotency keys,
-- notifications, the working-time calendar, and the maintained counters behind every figure.

CREATE TABLE category (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT NOT NULL UNIQUE,
    parent_id       INTEGER REFERENCES category (id),
    name            TEXT NOT NULL,
    -- Stem of the default department's code: 'cg' picks the nearest 'cg-<region>' up the tree.
    department_kind TEXT,
    accept_minutes  INTEGER NOT NULL,   -- working minutes to accept
    handle_minutes  INTEGER NOT NULL,   -- working minutes to handle once dispatched
    verify_minutes  INTEGER NOT NULL,   -- working minutes to verify once handled
    priority        INTEGER NOT NULL,   -- 1 urgent, 2 high, 3 normal
    on_spot         BOOLEAN NOT NULL,   -- may a grid worker resolve it on the spot?
    escalate_after_minutes INTEGER,     -- red this long (working minutes) → escalated; NULL: never
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Per-level overrides of a category's clocks (a county may give itself longer than a village).
CREATE TABLE category_deadline (
    category_id    INTEGER NOT NULL REFERENCES category (id),
    level          TEXT NOT NULL,
    accept_minutes INTEGER NOT NULL,
    handle_minutes INTEGER NOT NULL,
    verify_minutes INTEGER NOT NULL,
    PRIMARY KEY (category_id, level)
);

-- The working-time calendar (holidays, make-up working days, hours) as JSON; one row.
CREATE TABLE calendar (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Photos are stored once under the SHA-256 of their bytes.
CREATE TABLE photo (
    hash         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    uploaded_by  INTEGER REFERENCES app_user (id),
    created_at   INTEGER NOT NULL
);

CREATE TABLE event (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id       INTEGER NOT NULL REFERENCES category (id),
    grid_code         TEXT NOT NULL REFERENCES node (code),
    centre_code       TEXT NOT NULL REFERENCES node (code),  -- the region whose centre holds it
    centre_path       TEXT NOT NULL,
    state             TEXT NOT NULL,
    source            TEXT NOT NULL,
    description       TEXT NOT NULL,
    address           TEXT,
    lon               REAL NOT NULL,
    lat               REAL NOT NULL,
    reporter_id       INTEGER REFERENCES app_user (id),
    department_id     INTEGER REFERENCES department (id),
    priority          INTEGER NOT NULL,
    summoned          TEXT NOT NULL DEFAULT '[]',            -- JSON [{department_id, lead, checked_in}]
    returns           INTEGER NOT NULL DEFAULT 0,
    reopened          INTEGER NOT NULL DEFAULT 0,
    reminders         INTEGER NOT NULL DEFAULT 0,
    escalations       INTEGER NOT NULL DEFAULT 0,
    decision_required BOOLEAN NOT NULL DEFAULT FALSE,
    pending_extension INTEGER,
    rating            INTEGER,
    rating_comment    TEXT,
    rated_at          INTEGER,
    merged_into       INTEGER REFERENCES event (id),
    stage_started_at  INTEGER NOT NULL,   -- when the current stage's clock started
    due_at            INTEGER,            -- when the current stage is due (NULL when no clock runs)
    light             TEXT NOT NULL DEFAULT 'green',
    supervision       TEXT NOT NULL DEFAULT 'none',
    overdue_ever      BOOLEAN NOT NULL DEFAULT FALSE,
    red_since         INTEGER,
    next_check_at     INTEGER,            -- when the deadline sweep must look at it next
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    closed_at         INTEGER,
    version           INTEGER NOT NULL DEFAULT 1
);
-- Subtree lists: grid codes are paths, so a prefix range on grid_code is "everything under X".
CREATE INDEX event_grid_idx ON event (grid_code, created_at);
CREATE INDEX event_created_idx ON event (created_at, id);
CREATE INDEX event_centre_idx ON event (centre_path, state);
CREATE INDEX event_department_idx ON event (department_id, state);
CREATE INDEX event_reporter_idx ON event (reporter_id);
CREATE INDEX event_sweep_idx ON event (next_check_at);

-- The timeline: one row per move, with what the figures need to be recounted from it.
CREATE TABLE event_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   INTEGER NOT NULL REFERENCES event (id),
    at         INTEGER NOT NULL,
    actor_id   INTEGER REFERENCES app_user (id),
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX event_log_event_idx ON event_log (event_id, id);

CREATE TABLE event_photo (
    event_id INTEGER NOT NULL REFERENCES event (id),
    hash     TEXT NOT NULL REFERENCES photo (hash),
    stage    TEXT NOT NULL,               -- 'report' or 'result'
    position INTEGER NOT NULL,
    PRIMARY KEY (event_id, stage, position)
);

-- Reporters of duplicates merged into an order: they are told of its progress too.
CREATE TABLE event_reporter (
    event_id INTEGER NOT NULL REFERENCES event (id),
    user_id  INTEGER NOT NULL REFERENCES app_user (id),
    PRIMARY KEY (event_id, user_id)
);

-- A client-made key per report: a retry with the same key returns the first event.
CREATE TABLE idempotency (
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    key        TEXT NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES event (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Reminders and warnings to a user or a department (催办, 督办).
CREATE TABLE notification (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER REFERENCES app_user (id),
    department_id INTEGER REFERENCES department (id),
    event_id      INTEGER REFERENCES event (id),
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    read_at       INTEGER
);
CREATE INDEX notification_user_idx ON notification (user_id, id);
CREATE INDEX notification_department_idx ON notification (department_id, id);

-- Counters per (node, local day, dimension): every ancestor of an event's grid gets the same
-- deltas, so the figures of any node over any days are one indexed range sum.
-- dim: 'all' (dim_id 0), 'category', 'department'.
CREATE TABLE event_stat (
    node_path         TEXT NOT NULL,
    day               INTEGER NOT NULL,   -- yyyymmdd, China time
    dim               TEXT NOT NULL,
    dim_id            INTEGER NOT NULL,
    reported          INTEGER NOT NULL DEFAULT 0,
    accepted          INTEGER NOT NULL DEFAULT 0,
    dispatched        INTEGER NOT NULL DEFAULT 0,
    returned          INTEGER NOT NULL DEFAULT 0,
    closed            INTEGER NOT NULL DEFAULT 0,
    closed_on_time    INTEGER NOT NULL DEFAULT 0,
    reopened          INTEGER NOT NULL DEFAULT 0,
    rated             INTEGER NOT NULL DEFAULT 0,
    rating_sum        INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    closed_village    INTEGER NOT NULL DEFAULT 0,
    closed_town       INTEGER NOT NULL DEFAULT 0,
    closed_county     INTEGER NOT NULL DEFAULT 0,
    closed_city       INTEGER NOT NULL DEFAULT 0,
    closed_province   INTEGER NOT NULL DEFAULT 0,
    close_minutes_sum INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_path, dim, dim_id, day)
);

-- Time-to-close histogram per (node, day): 10%-wide buckets for medians and percentiles.
CREATE TABLE event_close_hist (
    node_path TEXT NOT NULL,
    day       INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (node_path, day, bucket)
);
