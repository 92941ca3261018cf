-- The village points system (积分制): a village's rules, the points awarded to its residents
-- by a rule, its shop (积分超市) with stock, the redemptions, and each resident's balance per
-- village, written in the same transaction as every award and redemption.

-- A rule: points given or taken (non-zero), by hand (manual) or by itself when a resident's
-- report is confirmed (report_confirmed). A rule is withdrawn, never deleted.
CREATE TABLE points_rule (
    id          BIGSERIAL PRIMARY KEY,
    node_code   TEXT NOT NULL REFERENCES node (code),
    name        TEXT NOT NULL,
    points      BIGINT NOT NULL CHECK (points <> 0 AND points BETWEEN -1000 AND 1000),
    kind        TEXT NOT NULL,                  -- manual | report_confirmed
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_by  BIGINT NOT NULL REFERENCES app_user (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX points_rule_node_idx ON points_rule (node_code, kind, active);

-- An award to a resident (a citizen user) of the village. An automatic award names the
-- confirmed report it is for: the unique key gives each report its points once.
CREATE TABLE points_award (
    id               BIGSERIAL PRIMARY KEY,
    node_code        TEXT NOT NULL REFERENCES node (code),
    user_id          BIGINT NOT NULL REFERENCES app_user (id),
    rule_id          BIGINT NOT NULL REFERENCES points_rule (id),
    points           BIGINT NOT NULL,
    note             TEXT NOT NULL,
    awarded_by       BIGINT REFERENCES app_user (id), -- NULL: automatic
    awarded_at       BIGINT NOT NULL,
    source_event_id  BIGINT UNIQUE REFERENCES event (id)
);
CREATE INDEX points_award_node_idx ON points_award (node_code, id);
CREATE INDEX points_award_user_idx ON points_award (user_id, id);

-- Evidence photos of an award: photos of the shared photo store, read by the village's staff
-- and the resident awarded.
CREATE TABLE points_evidence (
    award_id    BIGINT NOT NULL REFERENCES points_award (id),
    hash        TEXT NOT NULL REFERENCES photo (hash),
    position    BIGINT NOT NULL,
    PRIMARY KEY (award_id, hash)
);
CREATE INDEX points_evidence_hash_idx ON points_evidence (hash);

-- The shop's items with their stock (never below zero).
CREATE TABLE points_item (
    id          BIGSERIAL PRIMARY KEY,
    node_code   TEXT NOT NULL REFERENCES node (code),
    name        TEXT NOT NULL,
    price       BIGINT NOT NULL CHECK (price > 0),
    stock       BIGINT NOT NULL CHECK (stock >= 0),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_by  BIGINT NOT NULL REFERENCES app_user (id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX points_item_node_idx ON points_item (node_code, active);

CREATE TABLE points_redemption (
    id           BIGSERIAL PRIMARY KEY,
    node_code    TEXT NOT NULL REFERENCES node (code),
    user_id      BIGINT NOT NULL REFERENCES app_user (id),
    item_id      BIGINT NOT NULL REFERENCES points_item (id),
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    points       BIGINT NOT NULL CHECK (points > 0),  -- what it cost
    redeemed_at  BIGINT NOT NULL
);
CREATE INDEX points_redemption_node_idx ON points_redemption (node_code, id);
CREATE INDEX points_redemption_user_idx ON points_redemption (user_id, id);

-- A resident's balance in a village: Σ awards − Σ redemptions, kept in their transactions.
CREATE TABLE points_balance (
    node_code   TEXT NOT NULL REFERENCES node (code),
    user_id     BIGINT NOT NULL REFERENCES app_user (id),
    balance     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (node_code, user_id)
);
CREATE INDEX points_balance_rank_idx ON points_balance (node_code, balance);

-- The sweep of confirmed reports reads the citizens' closed reports by when they closed.
CREATE INDEX event_closed_report_idx ON event (closed_at, id) WHERE state = 'closed' AND reporter_id IS NOT NULL;

-- How far the sweep of confirmed reports has read (the latest closed_at it saw).
CREATE TABLE points_watermark (
    name  TEXT PRIMARY KEY,
    at    BIGINT NOT NULL
);
