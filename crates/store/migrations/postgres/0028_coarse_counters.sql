-- Counters per month and per year beside the days, so that a year's figures read a dozen rows
-- instead of hundreds (issue 17): in `event_stat` and `event_close_hist` a day's key is
-- yyyymmdd, its month's -yyyymm, its year's -yyyy (see `event::coarse_keys`). Every write adds
-- to all three from now on; here the days already counted are summed into their months and
-- years once. Readers of days (positive keys) are unchanged.

INSERT INTO event_stat (node_path, day, dim, dim_id, reported, accepted, dispatched, returned, closed, closed_on_time, reopened, rated, rating_sum, satisfied, closed_village, closed_town, closed_county, closed_city, closed_province, close_minutes_sum)
SELECT node_path, -(day / 100), dim, dim_id, SUM(reported), SUM(accepted), SUM(dispatched), SUM(returned), SUM(closed), SUM(closed_on_time), SUM(reopened), SUM(rated), SUM(rating_sum), SUM(satisfied), SUM(closed_village), SUM(closed_town), SUM(closed_county), SUM(closed_city), SUM(closed_province), SUM(close_minutes_sum)
FROM event_stat WHERE day > 0 GROUP BY node_path, day / 100, dim, dim_id;

INSERT INTO event_stat (node_path, day, dim, dim_id, reported, accepted, dispatched, returned, closed, closed_on_time, reopened, rated, rating_sum, satisfied, closed_village, closed_town, closed_county, closed_city, closed_province, close_minutes_sum)
SELECT node_path, -(day / 10000), dim, dim_id, SUM(reported), SUM(accepted), SUM(dispatched), SUM(returned), SUM(closed), SUM(closed_on_time), SUM(reopened), SUM(rated), SUM(rating_sum), SUM(satisfied), SUM(closed_village), SUM(closed_town), SUM(closed_county), SUM(closed_city), SUM(closed_province), SUM(close_minutes_sum)
FROM event_stat WHERE day > 0 GROUP BY node_path, day / 10000, dim, dim_id;

INSERT INTO event_close_hist (node_path, day, bucket, count)
SELECT node_path, -(day / 100), bucket, SUM(count)
FROM event_close_hist WHERE day > 0 GROUP BY node_path, day / 100, bucket;

INSERT INTO event_close_hist (node_path, day, bucket, count)
SELECT node_path, -(day / 10000), bucket, SUM(count)
FROM event_close_hist WHERE day > 0 GROUP BY node_path, day / 10000, bucket;
