-- The village ledger (三资台账): who keeps a village's books, double-entry entries with their
-- lines, invoice images and timeline, the posted sums per account and month, closed months.

-- Duties (岗位) for the books, assigned by administrators: the village's treasurer (报账员) and
-- committee (村委会) at a village node, the town's agency (三资代理中心) at a town node (it
-- reviews the books of every village below).
CREATE TABLE ledger_duty (
    user_id     INTEGER NOT NULL REFERENCES app_user (id),
    node_code   TEXT NOT NULL REFERENCES node (code),
    duty        TEXT NOT NULL,                  -- treasurer | committee | town_agency
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, node_code, duty)
);
CREATE INDEX ledger_duty_node_idx ON ledger_duty (node_code, duty);

-- An entry (记账凭证) of one village's books. `month` = year * 12 + month - 1 of entry_date.
CREATE TABLE ledger_entry (
    id            INTEGER PRIMARY KEY,
    node_code     TEXT NOT NULL REFERENCES node (code),
    number        TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,                -- income | expense | transfer
    entry_date    TEXT NOT NULL,                -- YYYY-MM-DD
    month         INTEGER NOT NULL,
    summary       TEXT NOT NULL,                -- 摘要
    counterparty  TEXT,                         -- 往来单位或个人
    private_party BOOLEAN NOT NULL DEFAULT FALSE,   -- a private person: masked when public
    total_fen     INTEGER NOT NULL,
    state         TEXT NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES app_user (id),
    posted_at     INTEGER,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX ledger_entry_node_idx ON ledger_entry (node_code, state, id);

CREATE TABLE ledger_line (
    entry_id      INTEGER NOT NULL REFERENCES ledger_entry (id),
    position      INTEGER NOT NULL,
    account_code  TEXT NOT NULL,
    side          TEXT NOT NULL,                -- debit | credit
    fen           INTEGER NOT NULL CHECK (fen > 0),
    PRIMARY KEY (entry_id, position)
);

-- Invoice images: photos of the shared photo store.
CREATE TABLE ledger_invoice (
    entry_id    INTEGER NOT NULL REFERENCES ledger_entry (id),
    hash        TEXT NOT NULL REFERENCES photo (hash),
    position    INTEGER NOT NULL,
    PRIMARY KEY (entry_id, hash)
);
CREATE INDEX ledger_invoice_hash_idx ON ledger_invoice (hash);

-- Posted debits and credits per village, account and month, written in the posting's
-- transaction: a balance at the end of a month is the sum of its rows up to that month.
CREATE TABLE ledger_sum (
    node_code     TEXT NOT NULL,
    account_code  TEXT NOT NULL,
    month         INTEGER NOT NULL,
    debit_fen     INTEGER NOT NULL DEFAULT 0,
    credit_fen    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_code, account_code, month)
);

-- Closed months (月结): nothing more is posted into them.
CREATE TABLE ledger_close (
    node_code   TEXT NOT NULL REFERENCES node (code),
    month       INTEGER NOT NULL,
    closed_by   INTEGER NOT NULL REFERENCES app_user (id),
    closed_at   INTEGER NOT NULL,
    PRIMARY KEY (node_code, month)
);

-- An entry's timeline (the shared shape of event_log).
CREATE TABLE ledger_log (
    id          INTEGER PRIMARY KEY,
    entry_id    INTEGER NOT NULL REFERENCES ledger_entry (id),
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES app_user (id),
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    note        TEXT,
    data        TEXT NOT NULL
);
CREATE INDEX ledger_log_entry_idx ON ledger_log (entry_id, id);

-- The last voucher number of a village's month (记字第N号), taken in the entry's transaction:
-- an upsert that returns the next number, so that two entries never share one.
CREATE TABLE ledger_seq (
    node_code   TEXT NOT NULL,
    month       INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (node_code, month)
);
