-- Care and attention (关爱/关注): the builtin tag catalogue, and the visits grid workers pay to
-- the people on it.
--
-- Tally kinds written here (store::tally): tag (key: a tag code) — one per resident_tag row,
-- at the resident's node and every ancestor. Visits due are time-bound (a tag falls due as the
-- clock moves), so they are counted by a query over resident_tag_due_idx, not tallied.

-- The builtin tags (codes fixed: the import and the demo use them). visit_days are calendar
-- days; NULL: the tag needs no visits. `vulnerable` tags put their people on the emergency
-- roster (平急转换).
INSERT INTO tag (code, name_zh, name_en, kind, visit_days, vulnerable, builtin, created_at, updated_at) VALUES
    ('elderly_alone',        '独居老人',         'Elderly living alone',             'care',      30, TRUE, TRUE, 0, 0),
    ('elderly_empty_nest',   '空巢老人',         'Empty-nest elderly',               'care',      30, TRUE, TRUE, 0, 0),
    ('disabled',             '残疾人',           'Person with disabilities',         'care',      30, TRUE, TRUE, 0, 0),
    ('subsistence',          '低保户',           'Subsistence allowance household',  'care',      90, FALSE, TRUE, 0, 0),
    ('extreme_poverty',      '特困供养',         'Extreme poverty support',          'care',      30, TRUE, TRUE, 0, 0),
    ('left_behind_child',    '留守儿童',         'Left-behind child',                'care',      30, TRUE, TRUE, 0, 0),
    ('poverty_watch',        '防返贫监测户',     'Poverty-relapse watch household',  'care',      30, FALSE, TRUE, 0, 0),
    ('mental_illness',       '严重精神障碍患者', 'Serious mental illness',           'attention', 14, TRUE, TRUE, 0, 0),
    ('community_correction', '社区矫正对象',     'Under community correction',       'attention', 7,  FALSE, TRUE, 0, 0),
    ('drug_rehab',           '社区戒毒康复人员', 'Community drug rehabilitation',    'attention', 14, FALSE, TRUE, 0, 0),
    ('released_prisoner',    '刑满释放人员',     'Released prisoner',                'attention', 30, FALSE, TRUE, 0, 0),
    ('veteran',              '退役军人',         'Veteran',                          'care',      NULL, FALSE, TRUE, 0, 0),
    ('key_youth',            '重点青少年',       'Youth needing attention',          'attention', 30, FALSE, TRUE, 0, 0),
    ('pregnant',             '孕产妇',           'Pregnant or postpartum woman',     'care',      30, TRUE, TRUE, 0, 0);

-- A visit to one resident (走访): who, when, where (optional), what was found. A problem found
-- becomes an event of the closed loop (`event_id`, linked both ways: the event finds its visit
-- through visit_event_idx).
CREATE TABLE visit (
    id           BIGSERIAL PRIMARY KEY,
    resident_id  BIGINT NOT NULL REFERENCES resident (id),
    node_code    TEXT COLLATE "C" NOT NULL REFERENCES node (code),  -- the resident's at the time, for scoped lists
    user_id      BIGINT NOT NULL REFERENCES app_user (id),
    at           BIGINT NOT NULL,
    lon          DOUBLE PRECISION,
    lat          DOUBLE PRECISION,
    notes        TEXT NOT NULL,
    found        TEXT NOT NULL,                -- nothing | need | hazard | other
    event_id     BIGINT REFERENCES event (id),
    created_at   BIGINT NOT NULL
);
CREATE INDEX visit_resident_idx ON visit (resident_id, id);
CREATE INDEX visit_node_idx ON visit (node_code, id);
CREATE INDEX visit_event_idx ON visit (event_id);

-- Photos of a visit: the same photo store as events (uploaded through /api/v1/photos).
CREATE TABLE visit_photo (
    visit_id  BIGINT NOT NULL REFERENCES visit (id),
    hash      TEXT NOT NULL REFERENCES photo (hash),
    position  BIGINT NOT NULL,
    PRIMARY KEY (visit_id, position)
);
CREATE INDEX visit_photo_hash_idx ON visit_photo (hash);
