-- Notices that reach people, and people with names and a call-back phone.

-- A notice is stored as a stable kind plus its parameters (JSON), so that the console and the
-- portal word it in the reader's language; `message` stays as a Chinese fallback for old clients.
ALTER TABLE notification ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
-- Notices to the dispatchers of one centre (a return, an extension request, an escalation):
-- addressed to the centre's region code, so a dispatcher who joins later sees them too.
ALTER TABLE notification ADD COLUMN centre_code TEXT REFERENCES node (code);
CREATE INDEX notification_centre_idx ON notification (centre_code, id);

-- Read state per user: a notice to a department or a centre is read by each of its people
-- apart (one handler reading it must not hide it from the others). The old
-- notification.read_at column is left unused.
CREATE TABLE notification_read (
    user_id         BIGINT NOT NULL REFERENCES app_user (id),
    notification_id BIGINT NOT NULL REFERENCES notification (id),
    read_at         BIGINT NOT NULL,
    PRIMARY KEY (user_id, notification_id)
);

-- A phone for call-backs (回访). Personal data: answered masked (138****5678), revealed only to
-- those whose job it is, with a stated purpose written to the audit log; never logged.
ALTER TABLE app_user ADD COLUMN phone TEXT;
