-- 网格接单 (一网五单): a new report first reaches the grid workers of its grid, who take it and
-- resolve it on the spot or pass it to the village centre. It stays 'reported' meanwhile (open,
-- counted as reported): the stage is a column of its own, so every state list, index and figure
-- that knows 'reported' stays right.

-- Whether reports of a category go to the grid first (where the jurisdiction runs the rule too).
-- Off by default: a fresh install keeps the centre-first loop until an administrator turns it on.
ALTER TABLE category ADD COLUMN grid_first BOOLEAN NOT NULL DEFAULT FALSE;

-- NULL: the centre holds the order. 'waiting': for a grid worker to take it. 'taken': by taken_by.
ALTER TABLE event ADD COLUMN grid_stage TEXT;
-- Who took it; kept after the order is passed on, for the worker's 我的接单 list.
ALTER TABLE event ADD COLUMN taken_by BIGINT REFERENCES app_user (id);
CREATE INDEX event_taken_idx ON event (taken_by, created_at) WHERE taken_by IS NOT NULL;

-- Per jurisdiction: a region (or grid) switches the rule on or off for its subtree; the nearest
-- setting up the tree wins, and with none the rule is off.
CREATE TABLE grid_first_setting (
    node_code  TEXT PRIMARY KEY REFERENCES node (code),
    enabled    BOOLEAN NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A kept order lists the reports merged into it.
CREATE INDEX event_merged_idx ON event (merged_into) WHERE merged_into IS NOT NULL;

-- A summoned department's inbox: open orders with a summons are few, so this partial index
-- bounds the search for its check-ins (the department id sits inside the summoned JSON).
CREATE INDEX event_summoned_idx ON event (id)
    WHERE state IN ('dispatched', 'in_progress') AND summoned <> '[]';
