-- Participation: consultations (协商议事) — a topic, residents' comments, the meeting's record
-- and its outcome — and legislative-opinion collection (立法意见征集) — a draft with numbered
-- articles, residents' opinions per article, each marked adopted or not with a reason.

CREATE TABLE consultation (
    id            INTEGER PRIMARY KEY,
    node_code     TEXT NOT NULL REFERENCES node (code),  -- the village
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    state         TEXT NOT NULL,                -- open | held | concluded | withdrawn
    opened_at     INTEGER NOT NULL,
    created_by    INTEGER NOT NULL REFERENCES app_user (id),
    comments      INTEGER NOT NULL DEFAULT 0,   -- rows of consultation_comment, kept in the same transaction
    held_at       INTEGER,
    place         TEXT,
    attendees     INTEGER,
    record        TEXT,
    decision      TEXT,                         -- agreed | rejected | deferred
    outcome       TEXT,
    concluded_at  INTEGER,
    reason        TEXT,                         -- why it was withdrawn
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX consultation_node_idx ON consultation (node_code, id);

CREATE TABLE consultation_comment (
    id              INTEGER PRIMARY KEY,
    consultation_id INTEGER NOT NULL REFERENCES consultation (id),
    author_id       INTEGER NOT NULL REFERENCES app_user (id),
    by_village      BOOLEAN NOT NULL,           -- written for the village (its staff), not a resident
    text            TEXT NOT NULL,
    at              INTEGER NOT NULL
);
CREATE INDEX consultation_comment_idx ON consultation_comment (consultation_id, id);
CREATE INDEX consultation_comment_author_idx ON consultation_comment (consultation_id, author_id);

CREATE TABLE consultation_log (
    id              INTEGER PRIMARY KEY,
    consultation_id INTEGER NOT NULL REFERENCES consultation (id),
    at              INTEGER NOT NULL,
    actor_id        INTEGER REFERENCES app_user (id),
    action          TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    note            TEXT,
    data            TEXT NOT NULL
);
CREATE INDEX consultation_log_idx ON consultation_log (consultation_id, id);

-- A draft law or regulation put to the residents of an area by its contact point.
CREATE TABLE draft_law (
    id            INTEGER PRIMARY KEY,
    node_code     TEXT NOT NULL REFERENCES node (code),  -- the contact point's area
    title         TEXT NOT NULL,
    issuer        TEXT NOT NULL,                -- who asks for the opinions (征求意见单位)
    summary       TEXT,
    articles      INTEGER NOT NULL,
    closes_at     INTEGER NOT NULL,             -- the end of the closing date
    state         TEXT NOT NULL,                -- open | closed | done
    created_by    INTEGER NOT NULL REFERENCES app_user (id),
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER,
    done_at       INTEGER,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX draft_law_node_idx ON draft_law (node_code, id);

CREATE TABLE draft_article (
    draft_id      INTEGER NOT NULL REFERENCES draft_law (id),
    number        INTEGER NOT NULL,             -- from 1
    text          TEXT NOT NULL,
    PRIMARY KEY (draft_id, number)
);

CREATE TABLE opinion (
    id            INTEGER PRIMARY KEY,
    draft_id      INTEGER NOT NULL REFERENCES draft_law (id),
    article       INTEGER NOT NULL,             -- 0: the draft as a whole
    author_id     INTEGER NOT NULL REFERENCES app_user (id),
    node_code     TEXT NOT NULL REFERENCES node (code),  -- the author's village, for the figures
    text          TEXT NOT NULL,
    verdict       TEXT NOT NULL,                -- received | adopted | not_adopted
    reason        TEXT,
    marked_by     INTEGER REFERENCES app_user (id),
    marked_at     INTEGER,
    given_at      INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX opinion_draft_idx ON opinion (draft_id, article, id);
CREATE INDEX opinion_author_idx ON opinion (draft_id, author_id);
CREATE INDEX opinion_node_idx ON opinion (node_code, verdict);

CREATE TABLE draft_law_log (
    id            INTEGER PRIMARY KEY,
    draft_id      INTEGER NOT NULL REFERENCES draft_law (id),
    at            INTEGER NOT NULL,
    actor_id      INTEGER REFERENCES app_user (id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    note          TEXT,
    data          TEXT NOT NULL
);
CREATE INDEX draft_law_log_idx ON draft_law_log (draft_id, id);
