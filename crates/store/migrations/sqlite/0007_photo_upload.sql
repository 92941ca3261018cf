-- Who uploaded each photo. Photos are stored once under their hash, so the same bytes sent by
-- two people have two uploaders; each may read (until it is attached) and attach their upload:
-- having sent the bytes proves they had them. Knowing a hash alone gives nothing.
CREATE TABLE photo_upload (
    hash       TEXT NOT NULL REFERENCES photo (hash),
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (hash, user_id)
);
INSERT INTO photo_upload (hash, user_id, created_at)
    SELECT hash, uploaded_by, created_at FROM photo WHERE uploaded_by IS NOT NULL;

-- Reading a photo asks which events it is attached to.
CREATE INDEX event_photo_hash_idx ON event_photo (hash);
