-- The caller of a hotline (12345) report: who rang, on which number, and whether they want a
-- call back (回访). Kept apart from the event, which a hotline report shares with every other
-- way in: only reports an operator took on the phone have a caller. The phone is personal data:
-- the API answers it masked and it is never logged.
CREATE TABLE event_caller (
    event_id   BIGINT PRIMARY KEY REFERENCES event (id),
    name       TEXT NOT NULL,
    phone      TEXT NOT NULL,
    callback   BOOLEAN NOT NULL,
    created_by BIGINT NOT NULL REFERENCES app_user (id),
    created_at BIGINT NOT NULL
);
