-- Village affairs in the open: public notices (四务公开) and villagers' questions on the books
-- and the notices (我要监督), answered within working days or supervised at the town.

CREATE TABLE disclosure (
    id            BIGSERIAL PRIMARY KEY,
    node_code     TEXT NOT NULL REFERENCES node (code),
    kind          TEXT NOT NULL,                -- party | village | finance | service
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    state         TEXT NOT NULL,                -- draft | published | withdrawn
    pinned        BOOLEAN NOT NULL DEFAULT FALSE,
    published_at  BIGINT,
    created_by    BIGINT NOT NULL REFERENCES app_user (id),
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX disclosure_node_idx ON disclosure (node_code, state, id);

CREATE TABLE disclosure_log (
    id            BIGSERIAL PRIMARY KEY,
    disclosure_id BIGINT NOT NULL REFERENCES disclosure (id),
    at            BIGINT NOT NULL,
    actor_id      BIGINT REFERENCES app_user (id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    note          TEXT,
    data          TEXT NOT NULL
);
CREATE INDEX disclosure_log_idx ON disclosure_log (disclosure_id, id);

-- A villager's question on a posted entry or a published notice of their village.
CREATE TABLE question (
    id            BIGSERIAL PRIMARY KEY,
    node_code     TEXT NOT NULL REFERENCES node (code),
    subject       TEXT NOT NULL,                -- entry | disclosure
    subject_id    BIGINT NOT NULL,
    asked_by      BIGINT NOT NULL REFERENCES app_user (id),
    text          TEXT NOT NULL,
    state         TEXT NOT NULL,                -- open | answered
    asked_at      BIGINT NOT NULL,
    due_at        BIGINT NOT NULL,             -- ANSWER_DAYS working days after asked_at
    supervised_at BIGINT,                      -- unanswered at due_at: supervision at the town
    answer        TEXT,
    answered_by   BIGINT REFERENCES app_user (id),
    answered_at   BIGINT,
    next_check_at BIGINT,                      -- the sweep's next look (none once done)
    version       BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX question_node_idx ON question (node_code, id);
CREATE INDEX question_subject_idx ON question (subject, subject_id, id);
CREATE INDEX question_asker_idx ON question (asked_by, state);
CREATE INDEX question_check_idx ON question (next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE question_log (
    id            BIGSERIAL PRIMARY KEY,
    question_id   BIGINT NOT NULL REFERENCES question (id),
    at            BIGINT NOT NULL,
    actor_id      BIGINT REFERENCES app_user (id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    note          TEXT,
    data          TEXT NOT NULL
);
CREATE INDEX question_log_idx ON question_log (question_id, id);

-- A village's entries by month (lists filtered by month, statements).
CREATE INDEX ledger_entry_month_idx ON ledger_entry (node_code, month, id);
