-- Open orders by grid: the map's open/overdue figure reads only these rows, not a whole
-- subtree of closed history (a province holds millions of closed events).
CREATE INDEX event_open_idx ON event (grid_code, light)
    WHERE state IN ('reported', 'accepted', 'dispatched', 'in_progress', 'resolved');
