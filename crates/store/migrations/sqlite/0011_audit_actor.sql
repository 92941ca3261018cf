-- The audit page filters by who made a change: newest first per actor without scanning the log.
CREATE INDEX audit_actor_idx ON audit (actor_id, seq);
