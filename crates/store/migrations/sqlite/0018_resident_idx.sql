-- Residents' indexes for the bulk load and the grid's lists (measured in bench/run).
--
-- Most residents have no login and many no recorded house: those index entries were all NULL,
-- paid for on every insert (a bulk load wrote seven index entries a resident). Lookups are by
-- equality (`user_id = $1`, `house_id = $1`), which a partial index on the non-NULL rows serves.
DROP INDEX resident_user_idx;
CREATE INDEX resident_user_idx ON resident (user_id) WHERE user_id IS NOT NULL;
DROP INDEX resident_house_idx;
CREATE INDEX resident_house_idx ON resident (house_id) WHERE house_id IS NOT NULL;
-- A grid's page filtered by residence or a name's beginning walks (node_code, id) and tests
-- the filter on the index entry, reading the row only for those that match.
DROP INDEX resident_node_idx;
CREATE INDEX resident_node_idx ON resident (node_code, id, residence, name);
-- A grid's residents with a tag, in id order straight from the index.
DROP INDEX resident_tag_node_idx;
CREATE INDEX resident_tag_node_idx ON resident_tag (node_code, tag_code, resident_id);
