-- PostgreSQL notifies the servers of changes to the tree and the reference data (LISTEN/NOTIFY,
-- issue 18). SQLite has no such channel: servers on one SQLite file see another's change by
-- polling (the grid index every `tree_poll_seconds`, the reference data within two seconds).
-- This file keeps the migration numbers of the two engines paired.
SELECT 1;
