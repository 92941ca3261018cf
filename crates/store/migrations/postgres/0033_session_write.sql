-- Read-your-writes with a streaming replica (issue 18): after a session's request changed
-- something, the server notes the primary's WAL position here (`pg_current_wal_lsn()`); a
-- later read of that session goes to the replica only once the replica has replayed that far,
-- otherwise to the primary. Unused on SQLite (no replica), kept for paired migrations.
ALTER TABLE session ADD COLUMN wrote_lsn TEXT;
