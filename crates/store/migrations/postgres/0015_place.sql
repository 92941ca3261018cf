-- Places, organisations and the emergency roster of the base data (人、地、事、物、组织), and
-- the map's reads of buildings by bounding box. Every row belongs to a node of the tree
-- (`node_code`) and is scoped like events: the subtree of a node is every node_code in
-- [path, path~). Tally kinds written here (store::tally): place (key: the place kind);
-- building ('') and house (a use) are counted by store::house on the tables of 0013.

-- Buildings and places are drawn on the people's map by bounding box: lon first, the range
-- scan narrows by lat on the rows it finds.
CREATE INDEX building_lonlat_idx ON building (lon, lat);

-- A place (场所): a shop, a school, a hospital, an enterprise site or one of the nine small
-- places (九小场所). `next_check_at` is when its next safety check falls due (from the kind's
-- interval and the last result, shanzhi_domain::place); overdue is `next_check_at < now`,
-- which the (node_code, next_check_at) index answers for a subtree in one range.
CREATE TABLE place (
    id              BIGSERIAL PRIMARY KEY,
    node_code       TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    address         TEXT,                       -- the place's own address (a business, not a person)
    lon             DOUBLE PRECISION,
    lat             DOUBLE PRECISION,
    building_id     BIGINT REFERENCES building (id),
    licence_no      TEXT,
    licence_expires TEXT,                       -- YYYY-MM-DD, the last valid day
    next_check_at   BIGINT NOT NULL,
    last_check_at   BIGINT,
    last_result     TEXT,                       -- passed | hazards_found | failed
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX place_node_idx ON place (node_code, id);
CREATE INDEX place_due_idx ON place (node_code, next_check_at);
CREATE INDEX place_lonlat_idx ON place (lon, lat);

-- The safety checks of a place, newest last.
CREATE TABLE place_check (
    id        BIGSERIAL PRIMARY KEY,
    place_id  BIGINT NOT NULL REFERENCES place (id),
    at        BIGINT NOT NULL,
    result    TEXT NOT NULL,                    -- passed | hazards_found | failed
    note      TEXT,
    actor_id  BIGINT REFERENCES app_user (id)
);
CREATE INDEX place_check_place_idx ON place_check (place_id, at);

-- Enterprises, social organisations and party branches (网格党支部). One party branch per node.
CREATE TABLE organisation (
    id          BIGSERIAL PRIMARY KEY,
    node_code   TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    kind        TEXT NOT NULL,                  -- enterprise | social_organisation | party_branch
    name        TEXT NOT NULL,
    address     TEXT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX organisation_node_idx ON organisation (node_code, id);
CREATE UNIQUE INDEX organisation_branch_key ON organisation (node_code) WHERE kind = 'party_branch';

-- Members of an organisation: a resident of the register or a name; the party role in a branch.
CREATE TABLE organisation_member (
    id               BIGSERIAL PRIMARY KEY,
    organisation_id  BIGINT NOT NULL REFERENCES organisation (id),
    resident_id      BIGINT REFERENCES resident (id),
    name             TEXT,
    role             TEXT NOT NULL,             -- secretary | deputy | member
    created_at       BIGINT NOT NULL
);
CREATE INDEX organisation_member_org_idx ON organisation_member (organisation_id, id);
CREATE UNIQUE INDEX organisation_secretary_key ON organisation_member (organisation_id) WHERE role = 'secretary';

-- The officials assigned to a grid (包联干部, 驻村第一书记 …): users with a duty there.
CREATE TABLE grid_official (
    node_code   TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    user_id     BIGINT NOT NULL REFERENCES app_user (id),
    duty        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (node_code, user_id)
);

-- An emergency roster (平急转换): the vulnerable residents of chosen grids or of a drawn area
-- at the time it was built. The addresses are not copied: they are read from the register
-- when the roster is opened (by someone who may reveal them there).
CREATE TABLE roster (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    node_code   TEXT COLLATE "C" NOT NULL REFERENCES node (code), -- the lowest node holding every chosen grid
    area        TEXT NOT NULL,              -- JSON: {"grids": [...]} or {"polygon": GeoJSON}
    created_by  BIGINT REFERENCES app_user (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX roster_node_idx ON roster (node_code, id);

-- The grids of a roster (who may open it must reach each one).
CREATE TABLE roster_node (
    roster_id  BIGINT NOT NULL REFERENCES roster (id),
    node_code  TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    PRIMARY KEY (roster_id, node_code)
);

CREATE TABLE roster_entry (
    roster_id    BIGINT NOT NULL REFERENCES roster (id),
    resident_id  BIGINT NOT NULL REFERENCES resident (id),
    node_code    TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    state        TEXT NOT NULL DEFAULT 'pending', -- pending | contacted | moved | unreachable
    note         TEXT,
    marked_by    BIGINT REFERENCES app_user (id),
    marked_at    BIGINT,
    PRIMARY KEY (roster_id, resident_id)
);
CREATE INDEX roster_entry_state_idx ON roster_entry (roster_id, state);
