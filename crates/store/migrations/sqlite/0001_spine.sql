-- The spine: the tree of regions and grids, departments, users, sessions, the audit chain.
-- Times are unix milliseconds (BIGINT) so both engines store and compare them the same way.

-- Regions and grids share one table: they form one tree, and "everything under X" is the
-- range path >= X AND path < X || '~' over the unique index on path.
CREATE TABLE node (
    code        TEXT PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    parent_code TEXT REFERENCES node (code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    geometry    TEXT,              -- GeoJSON Polygon/MultiPolygon; required for grids (checked in the domain)
    min_lon     REAL, min_lat REAL, max_lon REAL, max_lat REAL,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX node_parent_idx ON node (parent_code);

-- Departments (职能部门) belong to the level of the tree that owns them (a county's 城管局…).
CREATE TABLE department (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL REFERENCES node (code),
    created_at  INTEGER NOT NULL
);

-- "user" is reserved in PostgreSQL, hence app_user on both engines.
CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    scope_code    TEXT REFERENCES node (code),
    department_id INTEGER REFERENCES department (id),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX app_user_scope_idx ON app_user (scope_code);

-- Sessions live in the database so that any server instance accepts them. Only a hash of the
-- token is stored: a copy of the database does not hand out logins.
CREATE TABLE session (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX session_user_idx ON session (user_id);

-- The audit chain. seq is handed out by audit_head, whose single row also serialises writers,
-- so two transactions can never link to the same predecessor.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
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
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Append-only: the application never updates or deletes audit rows, and the database refuses to.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;

-- Small shared counters: tree_version tells every server instance when to rebuild its R-tree.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('tree_version', 0);
