-- Briefings (早晚报): the morning and evening analysis report of a centre (a region node),
-- archived as the figures computed when it was written (JSON: shanzhi::briefing::Figures),
-- so the archive shows what the centre read that day and the next briefing compares with it.
--
-- A briefing covers a fixed period: the morning one of day D from D-1's evening time to D's
-- morning time, the evening one from D's morning time to D's evening time (config
-- `briefing_times`). UNIQUE (node_code, kind, day): two sweeps (or servers) that race write it
-- once; the loser's INSERT does nothing.
CREATE TABLE briefing (
    id          INTEGER PRIMARY KEY,
    node_code   TEXT NOT NULL REFERENCES node (code),
    kind        TEXT NOT NULL,                 -- morning | evening
    day         INTEGER NOT NULL,              -- yyyymmdd, China time
    from_ms     INTEGER NOT NULL,
    to_ms       INTEGER NOT NULL,
    figures     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER REFERENCES app_user (id), -- NULL: written by the schedule
    UNIQUE (node_code, kind, day)
);
-- The archive of a node, newest first (keyset on id).
CREATE INDEX briefing_node_idx ON briefing (node_code, id);

-- The period's new risks and the lagging departments are read by time.
CREATE INDEX risk_log_at_idx ON risk_log (at);
CREATE INDEX risk_lag_at_idx ON risk_lag (at);
