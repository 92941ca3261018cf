-- The closed loop: categories, events (work orders), their timeline, photos, idempotency keys,
-- notifications, the working-time calendar, and the maintained counters behind every figure.

CREATE TABLE category (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    parent_id       BIGINT REFERENCES category (id),
    name            TEXT NOT NULL,
    -- Stem of the default department's code: 'cg' picks the nearest 'cg-<region>' up the tree.
    department_kind TEXT,
    accept_minutes  BIGINT NOT NULL,   -- working minutes to accept
    handle_minutes  BIGINT NOT NULL,   -- working minutes to handle once dispatched
    verify_minutes  BIGINT NOT NULL,   -- working minutes to verify once handled
    priority        BIGINT NOT NULL,   -- 1 urgent, 2 high, 3 normal
    on_spot         BOOLEAN NOT NULL,   -- may a grid worker resolve it on the spot?
    escalate_after_minutes BIGINT,     -- red this long (working minutes) → escalated; NULL: never
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Per-level overrides of a category's clocks (a county may give itself longer than a village).
CREATE TABLE category_deadline (
    category_id    BIGINT NOT NULL REFERENCES category (id),
    level          TEXT NOT NULL,
    accept_minutes BIGINT NOT NULL,
    handle_minutes BIGINT NOT NULL,
    verify_minutes BIGINT NOT NULL,
    PRIMARY KEY (category_id, level)
);

-- The working-time calendar (holidays, make-up working days, hours) as JSON; one row.
CREATE TABLE calendar (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Photos are stored once under the SHA-256 of their bytes.
CREATE TABLE photo (
    hash         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    bytes        BYTEA NOT NULL,
    uploaded_by  BIGINT REFERENCES app_user (id),
    created_at   BIGINT NOT NULL
);

CREATE TABLE event (
    id                BIGSERIAL PRIMARY KEY,
    category_id       BIGINT NOT NULL REFERENCES category (id),
    grid_code         TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    centre_code       TEXT COLLATE "C" NOT NULL REFERENCES node (code),  -- the region whose centre holds it
    centre_path       TEXT COLLATE "C" NOT NULL,
    state             TEXT NOT NULL,
    source            TEXT NOT NULL,
    description       TEXT NOT NULL,
    address           TEXT,
    lon               DOUBLE PRECISION NOT NULL,
    lat               DOUBLE PRECISION NOT NULL,
    reporter_id       BIGINT REFERENCES app_user (id),
    department_id     BIGINT REFERENCES department (id),
    priority          BIGINT NOT NULL,
    summoned          TEXT NOT NULL DEFAULT '[]',            -- JSON [{department_id, lead, checked_in}]
    returns           BIGINT NOT NULL DEFAULT 0,
    reopened          BIGINT NOT NULL DEFAULT 0,
    reminders         BIGINT NOT NULL DEFAULT 0,
    escalations       BIGINT NOT NULL DEFAULT 0,
    decision_required BOOLEAN NOT NULL DEFAULT FALSE,
    pending_extension BIGINT,
    rating            BIGINT,
    rating_comment    TEXT,
    rated_at          BIGINT,
    merged_into       BIGINT REFERENCES event (id),
    stage_started_at  BIGINT NOT NULL,   -- when the current stage's clock started
    due_at            BIGINT,            -- when the current stage is due (NULL when no clock runs)
    light             TEXT NOT NULL DEFAULT 'green',
    supervision       TEXT NOT NULL DEFAULT 'none',
    overdue_ever      BOOLEAN NOT NULL DEFAULT FALSE,
    red_since         BIGINT,
    next_check_at     BIGINT,            -- when the deadline sweep must look at it next
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    closed_at         BIGINT,
    version           BIGINT NOT NULL DEFAULT 1
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
    id         BIGSERIAL PRIMARY KEY,
    event_id   BIGINT NOT NULL REFERENCES event (id),
    at         BIGINT NOT NULL,
    actor_id   BIGINT REFERENCES app_user (id),
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX event_log_event_idx ON event_log (event_id, id);

CREATE TABLE event_photo (
    event_id BIGINT NOT NULL REFERENCES event (id),
    hash     TEXT NOT NULL REFERENCES photo (hash),
    stage    TEXT NOT NULL,               -- 'report' or 'result'
    position BIGINT NOT NULL,
    PRIMARY KEY (event_id, stage, position)
);

-- Reporters of duplicates merged into an order: they are told of its progress too.
CREATE TABLE event_reporter (
    event_id BIGINT NOT NULL REFERENCES event (id),
    user_id  BIGINT NOT NULL REFERENCES app_user (id),
    PRIMARY KEY (event_id, user_id)
);

-- A client-made key per report: a retry with the same key returns the first event.
CREATE TABLE idempotency (
    user_id    BIGINT NOT NULL REFERENCES app_user (id),
    key        TEXT NOT NULL,
    event_id   BIGINT NOT NULL REFERENCES event (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- Reminders and warnings to a user or a department (催办, 督办).
CREATE TABLE notification (
    id            BIGSERIAL PRIMARY KEY,
    user_id       BIGINT REFERENCES app_user (id),
    department_id BIGINT REFERENCES department (id),
    event_id      BIGINT REFERENCES event (id),
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    read_at       BIGINT
);
CREATE INDEX notification_user_idx ON notification (user_id, id);
CREATE INDEX notification_department_idx ON notification (department_id, id);

-- Counters per (node, local day, dimension): every ancestor of an event's grid gets the same
-- deltas, so the figures of any node over any days are one indexed range sum.
-- dim: 'all' (dim_id 0), 'category', 'department'.
CREATE TABLE event_stat (
    node_path         TEXT COLLATE "C" NOT NULL,
    day               BIGINT NOT NULL,   -- yyyymmdd, China time
    dim               TEXT NOT NULL,
    dim_id            BIGINT NOT NULL,
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
    close_minutes_sum BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (node_path, dim, dim_id, day)
);

-- Time-to-close histogram per (node, day): 10%-wide buckets for medians and percentiles.
CREATE TABLE event_close_hist (
    node_path TEXT COLLATE "C" NOT NULL,
    day       BIGINT NOT NULL,
    bucket    BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    PRIMARY KEY (node_path, day, bucket)
);
