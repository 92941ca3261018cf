-- The counters as clustered tables (issue 17, ingest): `WITHOUT ROWID`, so a counter row lives
-- in its primary key's B-tree, beside the other rows of its node, instead of in a table ordered
-- by insertion plus a separate key index. A fold of the journal (`event::fold_stats`) then
-- finds and updates each row in one tree: on a city of 200,000 events the fold touched about
-- half the pages and reports went from 1,917 to 2,238 a second. Rebuilds both tables once
-- (≈ 13 s for 3 M counter rows).

CREATE TABLE event_stat_clustered (
    node_path         TEXT NOT NULL,
    day               INTEGER NOT NULL,   -- yyyymmdd, China time; -yyyymm a month; -yyyy a year
    dim               TEXT NOT NULL,
    dim_id            INTEGER NOT NULL,
    reported          INTEGER NOT NULL DEFAULT 0,
    accepted          INTEGER NOT NULL DEFAULT 0,
    dispatched        INTEGER NOT NULL DEFAULT 0,
    returned          INTEGER NOT NULL DEFAULT 0,
    closed            INTEGER NOT NULL DEFAULT 0,
    closed_on_time    INTEGER NOT NULL DEFAULT 0,
    reopened          INTEGER NOT NULL DEFAULT 0,
    rated             INTEGER NOT NULL DEFAULT 0,
    rating_sum        INTEGER NOT NULL DEFAULT 0,
    satisfied         INTEGER NOT NULL DEFAULT 0,
    closed_village    INTEGER NOT NULL DEFAULT 0,
    closed_town       INTEGER NOT NULL DEFAULT 0,
    closed_county     INTEGER NOT NULL DEFAULT 0,
    closed_city       INTEGER NOT NULL DEFAULT 0,
    closed_province   INTEGER NOT NULL DEFAULT 0,
    close_minutes_sum INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node_path, dim, dim_id, day)
) WITHOUT ROWID;

INSERT INTO event_stat_clustered (node_path, day, dim, dim_id, reported, accepted, dispatched, returned, closed, closed_on_time, reopened, rated, rating_sum, satisfied, closed_village, closed_town, closed_county, closed_city, closed_province, close_minutes_sum)
SELECT node_path, day, dim, dim_id, reported, accepted, dispatched, returned, closed, closed_on_time, reopened, rated, rating_sum, satisfied, closed_village, closed_town, closed_county, closed_city, closed_province, close_minutes_sum
FROM event_stat ORDER BY node_path, dim, dim_id, day;

DROP TABLE event_stat;
ALTER TABLE event_stat_clustered RENAME TO event_stat;
-- The risk rules' sweep reads one category's counters over a few days across a subtree.
CREATE INDEX event_stat_dim_day_idx ON event_stat (dim, dim_id, day);

CREATE TABLE event_close_hist_clustered (
    node_path TEXT NOT NULL,
    day       INTEGER NOT NULL,
    bucket    INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (node_path, day, bucket)
) WITHOUT ROWID;

INSERT INTO event_close_hist_clustered (node_path, day, bucket, count)
SELECT node_path, day, bucket, count FROM event_close_hist ORDER BY node_path, day, bucket;

DROP TABLE event_close_hist;
ALTER TABLE event_close_hist_clustered RENAME TO event_close_hist;
