-- Corrections (更正申请): a citizen asks for a change to their own household's record; the
-- grid workers of the household's node decide. The value asked for is personal data when the
-- field is a phone or an ID number: then it is sealed (`value_enc`, with `value_mask` to show)
-- and `value` stays empty; other fields keep it in `value`. No tally kinds here.
CREATE TABLE correction (
    id            BIGSERIAL PRIMARY KEY,
    resident_id   BIGINT NOT NULL REFERENCES resident (id),
    household_id  BIGINT REFERENCES household (id),
    node_code     TEXT COLLATE "C" NOT NULL REFERENCES node (code),   -- the resident's, for the inbox of its workers
    requester_id  BIGINT NOT NULL REFERENCES app_user (id),
    field         TEXT NOT NULL,                -- name | phone | id_number | ethnicity | workplace
    value         TEXT,                         -- the value asked for, when not personal data
    value_enc     BYTEA,
    value_mask    TEXT,
    note          TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'pending', -- pending | accepted | rejected
    decided_by    BIGINT REFERENCES app_user (id),
    decision_note TEXT,
    created_at    BIGINT NOT NULL,
    decided_at    BIGINT
);
CREATE INDEX correction_node_idx ON correction (node_code, state, id);
CREATE INDEX correction_requester_idx ON correction (requester_id, id);
