-- Audit rows name the credential that acted (a session or a personal access token), so an
-- admin can tell which of a user's tokens did something. NULL for anonymous actions and rows
-- written before this migration.

ALTER TABLE audit_log ADD COLUMN credential_kind VARCHAR;   -- 'session' | 'pat'
ALTER TABLE audit_log ADD COLUMN credential_id VARCHAR;
