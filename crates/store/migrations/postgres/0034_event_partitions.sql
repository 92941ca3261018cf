-- Monthly partitions of the event and timeline tables (issue 18; PostgreSQL only, SQLite keeps
-- one table each). Event ids are numbered by month: a month's reports take ids from
-- yyyymm × 10^8 (20261200000001, …), so that the partition key is the id every foreign key
-- already references: `event` is partitioned by range of `id` and `event_log` by range of
-- `event_id`, one partition of each per month (`event_202612`, `event_log_202612`), a month's
-- timeline lines in the same month as their event. Everything stored before this migration
-- stays in one first partition of each (`event_legacy`, `event_log_legacy`, ids below the
-- month of the migration). `shanzhi_event_partitions(at)` makes the partitions of the month of
-- `at` and the next (China time) and moves the id sequence into the month; servers call it at
-- start and every quarter hour on the job lease's holder.
--
-- While it runs, the event tables and those that refer to them are locked: it scans both
-- tables, builds the timeline's new key and checks every foreign key again (measured in
-- README, "Several servers"). Servers of the previous release wait for it.
--
-- Keeps the previous release working: `event` and `event_log` keep their names, columns,
-- defaults, keys and the id sequence; the old tables become their first partitions, and the
-- foreign keys to `event (id)` are moved to the partitioned table.

CREATE FUNCTION shanzhi_month_base(m date) RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT to_char(m, 'YYYYMM')::bigint * 100000000 $$;

-- Making a partition locks `event` and `event_log` (and, for the foreign keys, the tables that
-- refer to events) for a moment; behind a long read (a backup, say) it would make every report
-- wait, so it gives up after two seconds and the next call (every quarter hour, a month ahead
-- of need) tries again. Nothing waits for a partition meanwhile: the id sequence moves into a
-- month only once that month's partition exists.
CREATE FUNCTION shanzhi_event_partitions(at timestamptz) RETURNS integer LANGUAGE plpgsql
SET lock_timeout = '2s' AS $$
DECLARE
    made integer := 0;
    this_month date := date_trunc('month', (at AT TIME ZONE 'UTC') + interval '8 hours')::date;
    m date;
    t text;
    lo bigint;
BEGIN
    -- Two servers starting at once make each partition once.
    PERFORM pg_advisory_xact_lock(4418);
    FOR k IN 0..1 LOOP
        m := (this_month + make_interval(months => k))::date;
        FOREACH t IN ARRAY ARRAY['event', 'event_log'] LOOP
            IF to_regclass(t || '_' || to_char(m, 'YYYYMM')) IS NULL THEN
                BEGIN
                    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                        t || '_' || to_char(m, 'YYYYMM'), t,
                        shanzhi_month_base(m), shanzhi_month_base((m + interval '1 month')::date));
                    made := made + 1;
                EXCEPTION
                    WHEN invalid_object_definition THEN
                        -- A month before the partitioning began: its ids are in the first
                        -- partition.
                        NULL;
                    WHEN lock_not_available THEN
                        RAISE NOTICE 'event partitions: busy, trying again next time';
                        RETURN made;
                END;
            END IF;
        END LOOP;
    END LOOP;
    -- This month's reports are numbered in this month's range (never backwards).
    lo := shanzhi_month_base(this_month);
    IF (SELECT last_value FROM event_id_seq) < lo THEN
        PERFORM setval('event_id_seq', lo);
    END IF;
    RETURN made;
END
$$;

DO $$
DECLARE
    lo bigint := shanzhi_month_base(date_trunc('month', (now() AT TIME ZONE 'UTC') + interval '8 hours')::date);
    t text;
    r record;
    fixed int;
BEGIN
    -- Foreign keys to a partitioned table need PostgreSQL 12; the key of a merged report to
    -- the one it was merged into (event to event) is enforced fully on partitions made later
    -- only from 13.21, 14.18, 15.13, 16.9 and 17.5 on (earlier releases miss part of it).
    IF current_setting('server_version_num')::int < 120000 THEN
        RAISE EXCEPTION 'Shanzhi needs PostgreSQL 12 or later for partitioned event tables';
    END IF;
    fixed := (ARRAY[999999, 130021, 140018, 150013, 160009, 170005])[current_setting('server_version_num')::int / 10000 - 11];
    IF current_setting('server_version_num')::int < COALESCE(fixed, 0) THEN
        RAISE WARNING 'PostgreSQL % enforces event.merged_into only partly on new partitions: upgrade to its latest minor release',
            current_setting('server_version');
    END IF;
    -- Ids stored so far lie below this month's range (they count from 1).
    IF (SELECT COALESCE(MAX(id), 0) FROM event) >= lo THEN
        RAISE EXCEPTION 'event ids reach %, the first id of this month', lo;
    END IF;
    -- 1. The old tables and their indexes step aside.
    FOREACH t IN ARRAY ARRAY['event', 'event_log'] LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_legacy');
        FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE i.indrelid = (t || '_legacy')::regclass LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', r.relname, 'legacy_' || r.relname);
        END LOOP;
    END LOOP;
    -- 2. The foreign keys to the old event table, kept to be added again to the new one.
    CREATE TEMP TABLE moved_fk ON COMMIT DROP AS
        SELECT conrelid::regclass::text AS tab, conname, pg_get_constraintdef(oid) AS def
        FROM pg_constraint WHERE contype = 'f' AND confrelid = 'event_legacy'::regclass;
    FOR r IN SELECT * FROM moved_fk LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tab, r.conname);
    END LOOP;
    -- 3. The partitioned tables, with the old ones as their first partitions.
    CREATE TABLE event (LIKE event_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)
        PARTITION BY RANGE (id);
    CREATE TABLE event_log (LIKE event_log_legacy INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)
        PARTITION BY RANGE (event_id);
    EXECUTE format('ALTER TABLE event ATTACH PARTITION event_legacy FOR VALUES FROM (MINVALUE) TO (%s)', lo);
    EXECUTE format('ALTER TABLE event_log ATTACH PARTITION event_log_legacy FOR VALUES FROM (MINVALUE) TO (%s)', lo);
    ALTER SEQUENCE event_id_seq OWNED BY event.id;
    ALTER SEQUENCE event_log_id_seq OWNED BY event_log.id;
    -- 4. Keys and indexes on the partitioned tables (the old partitions' own are attached, not
    -- built again). A timeline line's key is (event_id, id): a partitioned table's unique keys
    -- hold its partition key. It is also the index by event the old table had.
    ALTER TABLE event ADD CONSTRAINT event_pkey PRIMARY KEY (id);
    ALTER TABLE event_log_legacy DROP CONSTRAINT legacy_event_log_pkey;
    DROP INDEX legacy_event_log_event_idx;
    ALTER TABLE event_log ADD CONSTRAINT event_log_pkey PRIMARY KEY (event_id, id);
    -- The timeline's largest id (bulk loads number their lines after it) without a scan.
    CREATE INDEX event_log_id_idx ON event_log (id);
    FOREACH t IN ARRAY ARRAY['event', 'event_log'] LOOP
        FOR r IN SELECT c.relname, pg_get_indexdef(i.indexrelid) AS def
                 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE i.indrelid = (t || '_legacy')::regclass AND NOT i.indisprimary
                   AND c.relname LIKE 'legacy\_%'
                  LOOP
            -- `CREATE INDEX legacy_x ON [schema.]t_legacy …` becomes `CREATE INDEX x ON
            -- [schema.]t …`, which attaches the old partition's index instead of building one.
            EXECUTE regexp_replace(replace(r.def, r.relname, substr(r.relname, 8)),
                                   ' ON (\S+\.)?' || t || '_legacy ', ' ON \1' || t || ' ');
        END LOOP;
        IF EXISTS (SELECT 1 FROM pg_index i
                   WHERE i.indrelid = (t || '_legacy')::regclass
                     AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)) THEN
            RAISE EXCEPTION 'an index of % was not carried over to the partitioned table', t || '_legacy';
        END IF;
        FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                 WHERE contype = 'f' AND conrelid = (t || '_legacy')::regclass LOOP
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t, r.conname, r.def);
        END LOOP;
    END LOOP;
    -- 5. The foreign keys to events, now to the partitioned table.
    FOR r IN SELECT * FROM moved_fk LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s',
            CASE r.tab WHEN 'event_legacy' THEN 'event' WHEN 'event_log_legacy' THEN 'event_log' ELSE r.tab END,
            r.conname, replace(r.def, 'REFERENCES event_legacy(id)', 'REFERENCES event(id)'));
    END LOOP;
    -- 6. This month's and the next month's partitions; new ids in this month's range.
    PERFORM shanzhi_event_partitions(now());
END
$$;

-- The planner's statistics of the partitioned tables themselves (autovacuum analyzes only
-- their partitions).
ANALYZE event, event_log;
