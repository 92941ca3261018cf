-- Jobs that must run on one server at a time when several serve one database (issue 18): the
-- deadline sweeps, the risk rules' sweep, contract flags, points and the briefings. A server
-- runs them while it holds the job's lease, which it renews every few seconds; a server that
-- dies stops renewing, and another takes the lease once `until_ms` has passed. A graceful stop
-- deletes the lease, so the next server takes over at once. (The warning outbox needs no lease
-- of its own: each of its rows is claimed with one.)
CREATE TABLE job_lease (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,      -- a random id per server process
    until_ms BIGINT NOT NULL,    -- the holder's clock; servers' clocks agree to well under a lease
    taken_ms BIGINT NOT NULL     -- when this holder took it (renewals keep it)
);
