-- Base data (人、地、事、物、组织): the residents of every grid, their households, the buildings
-- and houses they live in, and the care and attention tags on them. Each row belongs to a node
-- of the tree (`node_code`, a grid or a smallest unit as a rule) and is scoped like events: the
-- subtree of a node is every node_code in [path, path~).
--
-- Personal data is sealed (store::pii): `*_enc` the AES-256-GCM ciphertext, `*_idx` the keyed
-- blind index for exact search, `*_mask` what answers show. The birth date is not kept apart
-- (with the mask it would give the ID number away): only the birth year, for ages and figures.

CREATE TABLE building (
    id          BIGSERIAL PRIMARY KEY,
    node_code   TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    name        TEXT NOT NULL,                 -- 3栋, 幸福里12号楼
    address     TEXT,                          -- the building's own address (not a person's)
    lon         DOUBLE PRECISION,
    lat         DOUBLE PRECISION,
    footprint   TEXT,                          -- GeoJSON Polygon, when drawn
    floors      BIGINT,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX building_node_idx ON building (node_code, id);

CREATE TABLE house (
    id                BIGSERIAL PRIMARY KEY,
    building_id       BIGINT REFERENCES building (id),
    node_code         TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    room              TEXT NOT NULL,            -- 2单元301, or a house number in a village
    use_kind          TEXT NOT NULL,            -- self_occupied | rented | vacant | commercial
    area              DOUBLE PRECISION,                     -- m²
    owner_resident_id BIGINT,                  -- references resident (added below: the two refer to each other)
    owner_name        TEXT,                     -- an owner who is not a resident here (a firm, someone elsewhere)
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX house_node_idx ON house (node_code, id);
CREATE INDEX house_building_idx ON house (building_id, id);

CREATE TABLE household (
    id                BIGSERIAL PRIMARY KEY,
    node_code         TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    number            TEXT,                     -- 户号 on the household register, when known
    house_id          BIGINT REFERENCES house (id),
    head_resident_id  BIGINT,                  -- references resident (added below)
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX household_node_idx ON household (node_code, id);

CREATE TABLE resident (
    id            BIGSERIAL PRIMARY KEY,
    node_code     TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    household_id  BIGINT REFERENCES household (id),
    relation      TEXT,                         -- to the head: head | spouse | child | parent | grandchild | sibling | other
    house_id      BIGINT REFERENCES house (id), -- where they actually live
    name          TEXT NOT NULL,
    gender        TEXT NOT NULL,                -- male | female (from the ID number when there is one)
    birth_year    BIGINT,
    id_kind       TEXT NOT NULL,                -- resident_id (GB 11643) | passport | other
    id_enc        BYTEA,
    id_idx        BYTEA,
    id_mask       TEXT,
    phone_enc     BYTEA,
    phone_idx     BYTEA,
    phone_mask    TEXT,
    ethnicity     TEXT,                         -- 汉族, 回族, …
    residence     TEXT NOT NULL,                -- registered (户籍) | floating (流动) | overseas (境外)
    workplace     TEXT,
    status        TEXT NOT NULL DEFAULT 'present', -- present | moved_out | deceased
    user_id       BIGINT REFERENCES app_user (id), -- the citizen account that is this person, if any
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
ALTER TABLE house ADD FOREIGN KEY (owner_resident_id) REFERENCES resident (id);
ALTER TABLE household ADD FOREIGN KEY (head_resident_id) REFERENCES resident (id);
CREATE INDEX resident_node_idx ON resident (node_code, id);
CREATE UNIQUE INDEX resident_id_idx ON resident (id_idx);
CREATE INDEX resident_phone_idx ON resident (phone_idx);
CREATE INDEX resident_household_idx ON resident (household_id);
CREATE INDEX resident_house_idx ON resident (house_id);
CREATE INDEX resident_user_idx ON resident (user_id);

-- The catalogue of care and attention tags (关爱/关注对象), each with how often its people are
-- visited; `builtin` tags come with the product, administrators add their own.
CREATE TABLE tag (
    code           TEXT PRIMARY KEY,            -- elderly_alone, disabled, …
    name_zh        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    kind           TEXT NOT NULL,               -- care (关爱) | attention (关注)
    visit_days     BIGINT,                     -- visit at least every N days; NULL: no visits due
    vulnerable     BOOLEAN NOT NULL DEFAULT FALSE,  -- on the emergency roster (平急转换)
    builtin        BOOLEAN NOT NULL DEFAULT FALSE,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE resident_tag (
    resident_id  BIGINT NOT NULL REFERENCES resident (id),
    tag_code     TEXT NOT NULL REFERENCES tag (code),
    node_code    TEXT COLLATE "C" NOT NULL REFERENCES node (code),  -- the resident's, for scoped lists and counts
    since        BIGINT NOT NULL,
    next_visit_at BIGINT,                      -- when a visit falls due (NULL: the tag needs none)
    PRIMARY KEY (resident_id, tag_code)
);
CREATE INDEX resident_tag_node_idx ON resident_tag (node_code, tag_code);
CREATE INDEX resident_tag_due_idx ON resident_tag (node_code, next_visit_at);

-- Counts for figures (Σ/Σ), any module's (store::tally): one row per node of the tree and
-- each of its ancestors (`node_path`, as event_stat), so a node's figure is one row and its
-- children's one range. kinds of base data: resident (key ''), residence (registered |
-- floating | overseas), tag (a tag code), household (''), building (''), house (a use).
CREATE TABLE tally (
    node_path  TEXT COLLATE "C" NOT NULL,
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (node_path, kind, key)
);
