-- The session that approved a device request: the CLI session is opened only while it is still
-- live, so a password change or "sign out everywhere" after the click also cancels the approval.
ALTER TABLE device_grants ADD COLUMN approved_by_session UUID;
