-- The settled days of the figures' counters (issue 17): a server may keep the sums of the
-- counters of days up to `through` in memory, because moves count on the day they happen and
-- those days are over. Whatever still writes a counter of such a day (a delta folded late, an
-- order located after the fact, the history writer) adds one to `epoch` in the same
-- transaction, and every server drops the sums it kept under an older epoch. One row.
CREATE TABLE stat_settled (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through BIGINT NOT NULL DEFAULT 0,   -- yyyymmdd, China time
    epoch   BIGINT NOT NULL DEFAULT 0
);
INSERT INTO stat_settled (id, through, epoch) VALUES (1, 0, 0);
