-- The spine: the tree of regions and grids, departments, users, sessions, the audit chain.
-- Times are unix milliseconds (BIGINT) so both engines store and compare them the same way.

-- Regions and grids share one table: they form one tree, and "everything under X" is the
-- range path >= X AND path < X || '~' over the unique index on path. COLLATE "C" makes that
-- range bytewise, as on SQLite; a locale collation could sort '~' before the digits.
CREATE TABLE node (
    code        TEXT COLLATE "C" PRIMARY KEY,
    path        TEXT COLLATE "C" NOT NULL UNIQUE,
    parent_code TEXT COLLATE "C" REFERENCES node (code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    geometry    TEXT,              -- GeoJSON Polygon/MultiPolygon; required for grids (checked in the domain)
    min_lon     DOUBLE PRECISION, min_lat DOUBLE PRECISION, max_lon DOUBLE PRECISION, max_lat DOUBLE PRECISION,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX node_parent_idx ON node (parent_code);

-- Departments (职能部门) belong to the level of the tree that owns them (a county's 城管局…).
CREATE TABLE department (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES node (code),
    created_at  BIGINT NOT NULL
);

-- "user" is reserved in PostgreSQL, hence app_user on both engines.
CREATE TABLE app_user (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope_code    TEXT COLLATE "C" REFERENCES node (code),
    department_id BIGINT REFERENCES department (id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until  BIGINT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX app_user_scope_idx ON app_user (scope_code);

-- Sessions live in the database so that any server instance accepts them. Only a hash of the
-- token is stored: a copy of the database does not hand out logins.
CREATE TABLE session (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX session_user_idx ON session (user_id);

-- The audit chain. seq is handed out by audit_head, whose single row also serialises writers
-- (UPDATE … RETURNING holds its row lock to commit), so two transactions never share a predecessor.
CREATE TABLE audit (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    BIGINT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_entity_idx ON audit (entity, entity_id);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes audit rows, and the database refuses to.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END;
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- Small shared counters: tree_version tells every server instance when to rebuild its R-tree.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('tree_version', 0);
