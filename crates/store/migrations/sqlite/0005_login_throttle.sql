-- Login throttling (issue 10). Failed logins are counted per key, not per account row:
--   'acct:<username>|<client address>'  one name typed from one address (whether or not such an
--                                        account exists, so answers reveal nothing), and
--   'addr:<client address>'             every name typed from one address.
-- An attempt is counted before its password is checked, under the row's lock, so parallel
-- guesses cannot all get through; a good login clears its 'acct:' key. The per-address keys
-- mean a stranger cannot lock a real user out from the user's own address.
-- app_user.failed_logins / locked_until are no longer written (kept: old rows may hold values).
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL DEFAULT 0,
    blocked_until INTEGER NOT NULL DEFAULT 0,   -- unix ms; 0: not blocked
    updated_at    INTEGER NOT NULL DEFAULT 0    -- unix ms of the last counted attempt
);
-- Old keys are purged by updated_at.
CREATE INDEX login_throttle_updated_idx ON login_throttle (updated_at);
