-- Open311 GeoReport v2: the registered clients (apps and aggregators that file citizens'
-- reports), and what a service request carries besides the event it becomes.

-- A registered client. Only the SHA-256 of its api_key is stored, so a copy of the database
-- does not hand out keys; the key itself is shown once, when the client is registered.
-- Reports are filed as user_id, a citizen-role service account, so they go through the same
-- closed loop, permissions, idempotency and counters as any citizen's report.
CREATE TABLE open311_client (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    key_hash        TEXT NOT NULL UNIQUE,    -- hex SHA-256 of the api_key
    user_id         INTEGER NOT NULL REFERENCES app_user (id),
    rate_per_minute INTEGER NOT NULL,        -- POSTs a minute per api_key (token bucket, per server)
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      INTEGER NOT NULL
);

-- One row per event filed through Open311: the client that sent it and the submitter's contact
-- fields. The contact fields are personal data: stored for the centre to call back, never
-- logged, never sent back by the read endpoints. The row also marks the event as public on
-- the Open311 read side (GET requests, the updates feed): only reports that came in through
-- Open311, whose clients publish them by the spec's design, are listed there.
CREATE TABLE open311_request (
    event_id    INTEGER PRIMARY KEY REFERENCES event (id),
    client_id   INTEGER NOT NULL REFERENCES open311_client (id),
    email       TEXT,
    first_name  TEXT,
    last_name   TEXT,
    phone       TEXT,
    device_id   TEXT,
    account_id  TEXT,
    address_id  TEXT,                        -- the jurisdiction's address id, as the client sent it
    media_url   TEXT,                        -- an external media link, as the client sent it
    attributes  TEXT NOT NULL DEFAULT '{}',  -- the service attributes given, as JSON {code: value | [values]}
    created_at  INTEGER NOT NULL
);
CREATE INDEX open311_request_client_idx ON open311_request (client_id, event_id);

-- The updates feed (servicerequestupdates) reads the timeline by time range.
CREATE INDEX event_log_at_idx ON event_log (at);
