-- One-time links (password reset, invite/setup) and indexes for the admin screens.
-- At most one pending link per (user_id, kind): the store deletes the old one before inserting,
-- under the single writer. No UNIQUE index on purpose: DuckDB checks unique indexes eagerly
-- within a transaction, which would refuse delete-then-insert of the same key.

CREATE TABLE one_time_tokens (
    user_id         VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,   -- 'reset' | 'setup'
    token_hash      VARCHAR NOT NULL,   -- hex SHA-256 of the secret
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX one_time_tokens_by_user ON one_time_tokens (user_id);

CREATE INDEX audit_log_by_actor ON audit_log (actor_id);
