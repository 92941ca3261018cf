-- Disputes (矛盾纠纷多元化解): the type tree, the mediator pool and expert panels, cases with
-- their parties, sessions (笔录), panels invited, and the timeline.
--
-- Tally kinds written here (store::tally), each counted at the node holding the case and every
-- ancestor: dispute (key: a measure), dispute_type / dispute_level / dispute_source /
-- dispute_mediator (key: "<value>|<measure>"). The measures of a case are a pure function of
-- its row (domain::dispute::figures), so a save adds (new − old) and a transfer moves them.

-- The configurable type tree (family, neighbours, land, …; children such as wages under labour).
CREATE TABLE dispute_type (
    code        TEXT PRIMARY KEY,
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    parent      TEXT REFERENCES dispute_type (code),
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);
INSERT INTO dispute_type (code, name_zh, name_en, parent, builtin, created_at) VALUES
    ('family',      '婚姻家庭纠纷',     'Family and marriage',        NULL, TRUE, 0),
    ('neighbours',  '邻里纠纷',         'Neighbours',                 NULL, TRUE, 0),
    ('land',        '山林土地纠纷',     'Land and forest',            NULL, TRUE, 0),
    ('housing',     '房屋宅基地及征迁纠纷', 'Housing and demolition', NULL, TRUE, 0),
    ('labour',      '劳动争议',         'Labour',                     NULL, TRUE, 0),
    ('traffic',     '交通事故纠纷',     'Traffic accidents',          NULL, TRUE, 0),
    ('property',    '物业纠纷',         'Property management',        NULL, TRUE, 0),
    ('consumer',    '消费纠纷',         'Consumer',                   NULL, TRUE, 0),
    ('medical',     '医疗纠纷',         'Medical',                    NULL, TRUE, 0),
    ('debt',        '借贷纠纷',         'Debt',                       NULL, TRUE, 0),
    ('other',       '其他纠纷',         'Other',                      NULL, TRUE, 0),
    ('inheritance', '继承纠纷',         'Inheritance',                'family', TRUE, 0),
    ('support',     '赡养抚养纠纷',     'Support of parents or children', 'family', TRUE, 0),
    ('wages',       '拖欠工资',         'Unpaid wages',               'labour', TRUE, 0),
    ('injury',      '工伤纠纷',         'Work injury',                'labour', TRUE, 0),
    ('demolition',  '征地拆迁纠纷',     'Land requisition and demolition', 'housing', TRUE, 0);

-- The mediator pool (调解员库): people's mediators, lawyers, retired judges, specialists.
-- specialties and dialects are JSON arrays; `user_id` is their account when they use the
-- workbench. Load (open cases held) is counted from dispute, not stored.
CREATE TABLE mediator (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,            -- peoples | lawyer | retired_judge | specialist
    specialties     TEXT NOT NULL,            -- JSON array of dispute_type codes
    organisation    TEXT,
    level           TEXT NOT NULL,            -- village | town | county
    node_code       TEXT NOT NULL REFERENCES node (code),
    dialects        TEXT NOT NULL,            -- JSON array
    rating          DOUBLE PRECISION NOT NULL DEFAULT 0,  -- 0–5
    user_id         BIGINT UNIQUE REFERENCES app_user (id),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX mediator_node_idx ON mediator (node_code, id);

-- Expert panels (专家库/专家组) and their members.
CREATE TABLE panel (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT NOT NULL,
    node_code    TEXT NOT NULL REFERENCES node (code),
    specialties  TEXT NOT NULL,               -- JSON array of dispute_type codes
    created_at   BIGINT NOT NULL
);
CREATE INDEX panel_node_idx ON panel (node_code, id);
CREATE TABLE panel_member (
    panel_id     BIGINT NOT NULL REFERENCES panel (id),
    mediator_id  BIGINT NOT NULL REFERENCES mediator (id),
    PRIMARY KEY (panel_id, mediator_id)
);

-- A case. `node_code` is the centre holding it (a village, town or county; `level` says which);
-- clocks as on events: `started_at` the clock's start, `due_at`, `light`, `next_check_at` for
-- the sweep. `outcome` is agreement | failure | withdrawal once recorded (`outcome_text`: the
-- terms or the reason); `honoured` the follow-up's answer.
CREATE TABLE dispute (
    id               BIGSERIAL PRIMARY KEY,
    number           TEXT NOT NULL UNIQUE,    -- 调字 number: yyyy + id
    node_code        TEXT NOT NULL REFERENCES node (code),
    level            TEXT NOT NULL,
    type_code        TEXT NOT NULL REFERENCES dispute_type (code),
    source           TEXT NOT NULL,
    summary          TEXT NOT NULL,
    amount_cents     BIGINT,
    people_involved  BIGINT,
    violence         BOOLEAN NOT NULL DEFAULT FALSE,
    many_parties     BOOLEAN NOT NULL DEFAULT FALSE,
    repeat_case      BOOLEAN NOT NULL DEFAULT FALSE,
    state            TEXT NOT NULL,
    mediator_id      BIGINT REFERENCES mediator (id),
    applicant_user_id BIGINT REFERENCES app_user (id),  -- a citizen's own application
    intake_user_id   BIGINT REFERENCES app_user (id),   -- who took it in
    event_id         BIGINT REFERENCES event (id),      -- converted from this event
    accepted_at      BIGINT,
    started_at       BIGINT,
    due_at           BIGINT,
    light            TEXT NOT NULL DEFAULT 'green',
    supervision      TEXT NOT NULL DEFAULT 'none',
    next_check_at    BIGINT,
    extension        TEXT NOT NULL DEFAULT 'none',        -- none | pending | approved | refused
    outcome          TEXT,
    outcome_text     TEXT,
    referral         TEXT,
    outcome_at       BIGINT,
    on_time          BOOLEAN,
    honoured         BOOLEAN,
    follow_up_note   TEXT,
    reopened         BOOLEAN NOT NULL DEFAULT FALSE,
    judicial         TEXT,                                -- JSON {court, date, number}
    closed_at        BIGINT,
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX dispute_node_idx ON dispute (node_code, id);
CREATE INDEX dispute_mediator_idx ON dispute (mediator_id, state);
CREATE INDEX dispute_applicant_idx ON dispute (applicant_user_id);
CREATE INDEX dispute_intake_idx ON dispute (intake_user_id);
CREATE INDEX dispute_event_idx ON dispute (event_id);
CREATE INDEX dispute_check_idx ON dispute (next_check_at);

-- The parties (当事人): a person of the register (`resident_id`) or one named here; ID numbers
-- and phones sealed exactly like resident's (store::pii), the blind index finding repeat cases.
CREATE TABLE dispute_party (
    id           BIGSERIAL PRIMARY KEY,
    dispute_id   BIGINT NOT NULL REFERENCES dispute (id),
    position     BIGINT NOT NULL,
    role         TEXT NOT NULL,               -- applicant | respondent | other
    resident_id  BIGINT REFERENCES resident (id),
    name         TEXT NOT NULL,
    gender       TEXT,
    id_enc       BYTEA,
    id_idx       BYTEA,
    id_mask      TEXT,
    phone_enc    BYTEA,
    phone_idx    BYTEA,
    phone_mask   TEXT,
    address_enc  BYTEA,                        -- sealed like the ID number (no index)
    address_mask TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX dispute_party_case_idx ON dispute_party (dispute_id, position);
CREATE INDEX dispute_party_id_idx ON dispute_party (id_idx);
CREATE INDEX dispute_party_resident_idx ON dispute_party (resident_id);

-- Mediation sessions (调解会) with their record (笔录); attachments are photos of the shared
-- content-addressed store.
CREATE TABLE dispute_session (
    id          BIGSERIAL PRIMARY KEY,
    dispute_id  BIGINT NOT NULL REFERENCES dispute (id),
    at          BIGINT NOT NULL,
    place       TEXT NOT NULL,
    attendees   TEXT NOT NULL,                -- JSON array of names
    record      TEXT,
    held        BOOLEAN NOT NULL DEFAULT FALSE,
    created_by  BIGINT NOT NULL REFERENCES app_user (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX dispute_session_case_idx ON dispute_session (dispute_id, at);
CREATE INDEX dispute_session_at_idx ON dispute_session (at);
CREATE TABLE dispute_session_photo (
    session_id  BIGINT NOT NULL REFERENCES dispute_session (id),
    hash        TEXT NOT NULL REFERENCES photo (hash),
    position    BIGINT NOT NULL,
    PRIMARY KEY (session_id, position)
);

-- Panels invited to a case.
CREATE TABLE dispute_panel (
    dispute_id  BIGINT NOT NULL REFERENCES dispute (id),
    panel_id    BIGINT NOT NULL REFERENCES panel (id),
    invited_at  BIGINT NOT NULL,
    PRIMARY KEY (dispute_id, panel_id)
);

-- The timeline of a case, one row per move (like event_log).
CREATE TABLE dispute_log (
    id          BIGSERIAL PRIMARY KEY,
    dispute_id  BIGINT NOT NULL REFERENCES dispute (id),
    at          BIGINT NOT NULL,
    actor_id    BIGINT REFERENCES app_user (id),
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT,
    data        TEXT NOT NULL
);
CREATE INDEX dispute_log_case_idx ON dispute_log (dispute_id, id);
