-- The settled days of the figures' counters (issue 17): a server may keep the sums of the
-- counters of days up to `through` in memory, because moves count on the day they happen and
-- those days are over. Whatever still writes a counter of such a day adds one to `epoch`: a
-- delta folded late or an order located after the fact in the same transaction (every write
-- of `write_stats!`), the history writer before and after its load. Every server then drops
-- the sums it kept under an older epoch. One row.
CREATE TABLE stat_settled (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through BIGINT NOT NULL DEFAULT 0,   -- yyyymmdd, China time
    epoch   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO stat_settled (id, through, epoch) VALUES (1, 0, 0);
