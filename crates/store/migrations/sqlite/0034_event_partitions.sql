-- Monthly partitions of the event and timeline tables are PostgreSQL's (see its 0034); a SQLite
-- database keeps one table of each. Kept for paired migrations.
SELECT 1;
