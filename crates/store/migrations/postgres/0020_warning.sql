-- Warnings to people (预警发布): the centre picks grids (or draws an area resolved to grids)
-- and a message; the warning reaches the grid workers and residents there at once in the
-- apps (notification rows written in the same transaction) and, through a durable outbox,
-- by e-mail and SMS. Every warning is also published as an OASIS CAP 1.2 message.

-- A warning as sent. `risk_id` names the assessed risk it comes from, when there is one: no
-- foreign key, the risk tables land in a migration of their own. `node_code` is the lowest
-- node holding every chosen grid (its sender's scope bounds it), for scoped lists.
-- `roster_id`: the emergency roster of the vulnerable people of the grids, opened with it.
CREATE TABLE warning (
    id          BIGSERIAL PRIMARY KEY,
    number      TEXT NOT NULL UNIQUE,          -- YJ-YYYYMMDD-id, also the CAP identifier's tail
    title       TEXT NOT NULL,
    message     TEXT NOT NULL,
    level       TEXT NOT NULL,                 -- red | orange | yellow | blue
    risk_id     BIGINT,
    node_code   TEXT NOT NULL REFERENCES node (code),
    roster_id   BIGINT REFERENCES roster (id),
    area        TEXT NOT NULL,                 -- what was chosen, as JSON (grids or a polygon)
    notified    BIGINT NOT NULL DEFAULT 0,    -- in-app notices written
    created_by  BIGINT NOT NULL REFERENCES app_user (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX warning_node_idx ON warning (node_code, id);

-- The grids a warning covers: a citizen's portal and a worker's list find warnings by grid.
CREATE TABLE warning_node (
    warning_id  BIGINT NOT NULL REFERENCES warning (id),
    node_code   TEXT NOT NULL REFERENCES node (code),
    PRIMARY KEY (warning_id, node_code)
);
CREATE INDEX warning_node_code_idx ON warning_node (node_code, warning_id);

-- The outbox: one row per warning, channel and recipient, written in the warning's own
-- transaction, so a warning is never half-announced. A worker claims due rows by setting a
-- lease (lease_owner, lease_until) in one statement that re-checks the row is still pending
-- and unleased, sends, and only then marks it sent — while holding the lease. A crash leaves
-- the row pending: its lease runs out and the next worker (or server) sends it (at least
-- once); two workers never hold the same row at once. The receiver's dedup key is the row id.
-- The address is not copied here: it is read (and a phone unsealed) at send time only.
CREATE TABLE warning_delivery (
    id              BIGSERIAL PRIMARY KEY,
    warning_id      BIGINT NOT NULL REFERENCES warning (id),
    channel         TEXT NOT NULL,             -- email | sms
    user_id         BIGINT NOT NULL REFERENCES app_user (id),
    state           TEXT NOT NULL DEFAULT 'pending', -- pending | sent | failed
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    sent_at         BIGINT,
    created_at      BIGINT NOT NULL,
    UNIQUE (warning_id, channel, user_id)
);
CREATE INDEX warning_delivery_due_idx ON warning_delivery (state, next_attempt_at);

-- An e-mail address for warnings (personal data: answered masked, never logged).
ALTER TABLE app_user ADD COLUMN email TEXT;
