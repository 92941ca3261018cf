-- Several servers on one database (issue 18): each keeps the grid index and the reference data
-- every report reads (categories, their clocks per level, the working-time calendar, the risk
-- rules) in memory. A change to them notifies every server listening on the channel
-- `shanzhi_change` when its transaction commits (NOTIFY is transactional, and repeats within
-- one transaction are sent once), so the others rebuild or drop what they hold at once instead
-- of polling for it. Triggers rather than calls in the code: an import, a script or a
-- restore notifies as well as the API does.
CREATE FUNCTION shanzhi_notify_reference() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('shanzhi_change', 'reference');
    RETURN NULL;
END
$$;

CREATE TRIGGER category_notify AFTER INSERT OR UPDATE OR DELETE ON category
    FOR EACH STATEMENT EXECUTE FUNCTION shanzhi_notify_reference();
CREATE TRIGGER category_deadline_notify AFTER INSERT OR UPDATE OR DELETE ON category_deadline
    FOR EACH STATEMENT EXECUTE FUNCTION shanzhi_notify_reference();
CREATE TRIGGER calendar_notify AFTER INSERT OR UPDATE OR DELETE ON calendar
    FOR EACH STATEMENT EXECUTE FUNCTION shanzhi_notify_reference();
CREATE TRIGGER risk_rule_notify AFTER INSERT OR UPDATE OR DELETE ON risk_rule
    FOR EACH STATEMENT EXECUTE FUNCTION shanzhi_notify_reference();

-- The tree's version moves with every change of a shape, a name or the nodes (`node.rs`).
CREATE FUNCTION shanzhi_notify_tree() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key = 'tree_version' THEN
        PERFORM pg_notify('shanzhi_change', 'tree');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER meta_notify AFTER UPDATE ON meta
    FOR EACH ROW EXECUTE FUNCTION shanzhi_notify_tree();
