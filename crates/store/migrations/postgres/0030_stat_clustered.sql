-- SQLite rebuilds its counter tables as `WITHOUT ROWID` in this step (see the SQLite file of
-- the same name). PostgreSQL has no such table kind (a table's rows live in a heap beside its
-- key index) and its counters are already reached by that index: nothing to change here. The
-- file keeps the two engines' migration numbers paired.
SELECT 1;
