-- Risks and early warning (风险研判预警): rules that raise clues, the clues and risks (one
-- record: a clue until the joint assessment grades it), progress reports, the departments
-- that missed a day's report (日清日结 督办), and the timeline.
--
-- Tally kinds written here (store::tally), each counted at the record's node and every
-- ancestor: risk (key: a measure), risk_level / risk_type / risk_source (key:
-- "<value>|<measure>"). The measures are a pure function of the row (domain::risk::measures).

-- The time to handle a risk of each level, in hours (configurable).
CREATE TABLE risk_level_setting (
    level           TEXT PRIMARY KEY,
    deadline_hours  INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
INSERT INTO risk_level_setting (level, deadline_hours, updated_at) VALUES
    ('red', 24, 0), ('orange', 72, 0), ('yellow', 168, 0), ('blue', 720, 0);

-- Rules (domain::risk::rule): `params` JSON by kind; the rule watches the subtree of
-- `node_code`; the clues it raises get `risk_type`.
CREATE TABLE risk_rule (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    params      TEXT NOT NULL,
    node_code   TEXT NOT NULL REFERENCES node (code),
    risk_type   TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    version     INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER REFERENCES app_user (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The last window (yyyymmdd days) in which a rule raised a clue for a subject (a grid, a
-- person, a dispute, a region): a new clue only when its window no longer overlaps.
CREATE TABLE risk_rule_mark (
    rule_id       INTEGER NOT NULL REFERENCES risk_rule (id),
    subject       TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    window_end    INTEGER NOT NULL,
    PRIMARY KEY (rule_id, subject)
);

-- A clue or a risk. `level`, the departments and the clock are set by the assessment;
-- `started_at`/`due_at` the level's clock (natural hours), `light` green|yellow|red,
-- `next_check_at` for the sweep, `report_checked_day` the last day (yyyymmdd) whose daily
-- report the sweep checked.
CREATE TABLE risk (
    id                  INTEGER PRIMARY KEY,
    number              TEXT NOT NULL UNIQUE,
    node_code           TEXT NOT NULL REFERENCES node (code),
    type_code           TEXT NOT NULL,
    source              TEXT NOT NULL,           -- manual | rule | event | dispute | department
    title               TEXT NOT NULL,
    detail              TEXT,
    rule_id             INTEGER REFERENCES risk_rule (id),
    event_id            INTEGER REFERENCES event (id),
    dispute_id          INTEGER REFERENCES dispute (id),
    state               TEXT NOT NULL,
    level               TEXT,
    lead_department_id  INTEGER REFERENCES department (id),
    helper_ids          TEXT NOT NULL DEFAULT '[]',
    measures            TEXT,
    assessed_at         INTEGER,
    started_at          INTEGER,
    due_at              INTEGER,
    light               TEXT NOT NULL DEFAULT 'green',
    next_check_at       INTEGER,
    report_checked_day  INTEGER,
    last_report_at      INTEGER,
    finished_at         INTEGER,
    on_time             INTEGER,
    closed_at           INTEGER,
    version             INTEGER NOT NULL DEFAULT 1,
    created_by          INTEGER REFERENCES app_user (id),
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX risk_node_idx ON risk (node_code, id);
CREATE INDEX risk_open_idx ON risk (state, level);
CREATE INDEX risk_check_idx ON risk (next_check_at);
CREATE INDEX risk_lead_idx ON risk (lead_department_id, state);
CREATE INDEX risk_event_idx ON risk (event_id);
CREATE INDEX risk_dispute_idx ON risk (dispute_id);

-- Progress reports (进展报告), by a department (or the centre: no department).
CREATE TABLE risk_report (
    id             INTEGER PRIMARY KEY,
    risk_id        INTEGER NOT NULL REFERENCES risk (id),
    department_id  INTEGER REFERENCES department (id),
    actor_id       INTEGER NOT NULL REFERENCES app_user (id),
    day            INTEGER NOT NULL,             -- yyyymmdd, China time
    at             INTEGER NOT NULL,
    text           TEXT NOT NULL
);
CREATE INDEX risk_report_risk_idx ON risk_report (risk_id, day);

-- A working day on which a red or orange risk's lead department filed no report (督办), one
-- row per risk, department and day; the daily board ranks departments by them.
CREATE TABLE risk_lag (
    risk_id        INTEGER NOT NULL REFERENCES risk (id),
    department_id  INTEGER NOT NULL REFERENCES department (id),
    day            INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (risk_id, department_id, day)
);
CREATE INDEX risk_lag_day_idx ON risk_lag (day, department_id);

-- The timeline of a record, one row per move (like event_log).
CREATE TABLE risk_log (
    id          INTEGER PRIMARY KEY,
    risk_id     INTEGER NOT NULL REFERENCES risk (id),
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES app_user (id),
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT,
    data        TEXT NOT NULL
);
CREATE INDEX risk_log_risk_idx ON risk_log (risk_id, id);

-- The rules read a person's reports within days and a region's disputes of a type within days.
DROP INDEX event_reporter_idx;
CREATE INDEX event_reporter_idx ON event (reporter_id, created_at);
CREATE INDEX dispute_type_time_idx ON dispute (type_code, created_at);
-- The rules' sweep reads one category's counters over a few days across a subtree.
CREATE INDEX event_stat_dim_day_idx ON event_stat (dim, dim_id, day);
