-- Phones sealed at rest (AES-256-GCM, see store::pii): the ciphertext, a keyed blind index for
-- exact search, and the mask every answer shows. The plain columns of 0009, 0010 and 0003 are
-- emptied at start-up once their values are sealed (store::pii::seal_legacy) and no longer
-- written; a later release drops them.
ALTER TABLE app_user ADD COLUMN phone_enc BLOB;
ALTER TABLE app_user ADD COLUMN phone_idx BLOB;
ALTER TABLE app_user ADD COLUMN phone_mask TEXT;
CREATE INDEX app_user_phone_idx ON app_user (phone_idx);

ALTER TABLE event_caller ADD COLUMN phone_enc BLOB;
ALTER TABLE event_caller ADD COLUMN phone_idx BLOB;
ALTER TABLE event_caller ADD COLUMN phone_mask TEXT;
CREATE INDEX event_caller_phone_idx ON event_caller (phone_idx);

ALTER TABLE open311_request ADD COLUMN phone_enc BLOB;
ALTER TABLE open311_request ADD COLUMN phone_idx BLOB;
ALTER TABLE open311_request ADD COLUMN phone_mask TEXT;
