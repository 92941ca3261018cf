-- Archiving months of events is PostgreSQL's (see its 0035): a SQLite database keeps one event
-- table and is copied whole by `shanzhi backup`. Kept for paired migrations.
SELECT 1;
