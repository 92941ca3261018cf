-- The register of a village's collective contracts (集体经济合同) and their clean-up
-- (一清三规范): the contracts, their attachment photos, the flags the register raises with the
-- clean-up status of each, and the timeline.

CREATE TABLE contract (
    id             INTEGER PRIMARY KEY,
    node_code      TEXT NOT NULL REFERENCES node (code),
    number         TEXT NOT NULL,                -- 合同编号, unique within the village
    kind           TEXT NOT NULL,                -- land | forest | grassland | pond | building | other
    asset_name     TEXT NOT NULL,                -- 标的名称
    location       TEXT,                         -- 坐落位置
    area_centi     INTEGER NOT NULL CHECK (area_centi > 0),   -- hundredths of a unit
    unit           TEXT NOT NULL,                -- mu | m2 | piece
    counterparty   TEXT NOT NULL,                -- 承包方、承租方
    private_party  BOOLEAN NOT NULL DEFAULT TRUE,    -- a private person: masked when public
    start_date     TEXT NOT NULL,                -- YYYY-MM-DD
    end_date       TEXT NOT NULL,
    yearly_fen     INTEGER NOT NULL CHECK (yearly_fen >= 0),
    payment_terms  TEXT,                         -- 付款方式
    meeting_date   TEXT,                         -- 村民（代表）会议表决日期
    meeting_ref    TEXT,                         -- its minutes' reference
    terminated     BOOLEAN NOT NULL DEFAULT FALSE,   -- ended early or settled
    created_by     INTEGER NOT NULL REFERENCES app_user (id),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (node_code, number)
);
CREATE INDEX contract_group_idx ON contract (node_code, kind, unit);
-- The daily recheck looks for terms that ended.
CREATE INDEX contract_end_idx ON contract (end_date);

-- Attachment photos (the contract's scans): photos of the shared photo store.
CREATE TABLE contract_photo (
    contract_id  INTEGER NOT NULL REFERENCES contract (id),
    hash         TEXT NOT NULL REFERENCES photo (hash),
    position     INTEGER NOT NULL,
    PRIMARY KEY (contract_id, hash)
);
CREATE INDEX contract_photo_hash_idx ON contract_photo (hash);

-- A flag raised on a contract, with its clean-up. A flag that no longer applies is closed
-- (closed_at); raised again, it is a new row. The current row of a contract's flag is the open
-- one or else the last closed one: what the counts and filters read.
CREATE TABLE contract_flag (
    id           INTEGER PRIMARY KEY,
    contract_id  INTEGER NOT NULL REFERENCES contract (id),
    node_code    TEXT NOT NULL,
    flag         TEXT NOT NULL,                  -- expired | term_too_long | price_low | no_meeting_approval
    status       TEXT NOT NULL,                  -- open | rectifying | cleaned
    note         TEXT,
    status_by    INTEGER REFERENCES app_user (id),
    status_at    INTEGER,
    raised_at    INTEGER NOT NULL,
    closed_at    INTEGER,
    is_current   BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE UNIQUE INDEX contract_flag_current_idx ON contract_flag (contract_id, flag) WHERE is_current;
CREATE INDEX contract_flag_node_idx ON contract_flag (node_code, flag, status);
CREATE INDEX contract_flag_contract_idx ON contract_flag (contract_id, flag);

-- A contract's timeline (the shared shape of event_log).
CREATE TABLE contract_log (
    id           INTEGER PRIMARY KEY,
    contract_id  INTEGER NOT NULL REFERENCES contract (id),
    at           INTEGER NOT NULL,
    actor_id     INTEGER REFERENCES app_user (id),
    action       TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    note         TEXT,
    data         TEXT NOT NULL
);
CREATE INDEX contract_log_contract_idx ON contract_log (contract_id, id);

-- One row per village with contracts, taken (an upsert) first in the transaction of every write
-- to its register: writes to one village's contracts follow one another, so that the flags one
-- write computes see the prices the others wrote (the median is the village's).
CREATE TABLE contract_village (
    node_code    TEXT PRIMARY KEY,
    writes       INTEGER NOT NULL
);
