-- CLI sessions (API.md §13): rotating refresh tokens, one family per session, and device
-- authorization requests. Only SHA-256 hashes of the secrets are stored.

CREATE TABLE refresh_tokens (
    token_hash      VARCHAR PRIMARY KEY,
    session_id      VARCHAR NOT NULL,
    issued_at       TIMESTAMP NOT NULL,
    spent_at        TIMESTAMP
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE device_grants (
    device_hash     VARCHAR PRIMARY KEY,
    user_code_hash  VARCHAR NOT NULL,
    client_name     VARCHAR NOT NULL,
    ip              VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    interval_seconds INTEGER NOT NULL,
    last_poll_at    TIMESTAMP,
    decision        VARCHAR NOT NULL,   -- 'pending' | 'approved' | 'denied'
    user_id         VARCHAR             -- who approved or denied
);

-- The audit log's hash chain (API.md §14). Rows written before this migration are numbered in
-- the order they happened; the server hashes them when it opens the database.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash VARCHAR;
UPDATE audit_log SET seq = numbered.seq
FROM (SELECT id, row_number() OVER (ORDER BY occurred_at, id) AS seq FROM audit_log) AS numbered
WHERE audit_log.id = numbered.id;

-- The chain's head: the last row's seq and hash, so appending reads one row, not the log.
CREATE TABLE audit_chain (
    seq             BIGINT NOT NULL,
    hash            VARCHAR NOT NULL
);
INSERT INTO audit_chain VALUES (0, '0000000000000000000000000000000000000000000000000000000000000000');
