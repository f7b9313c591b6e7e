-- CLI sessions (API.md §13): rotating refresh tokens, one family per session, and device
-- authorization requests. Only SHA-256 hashes of the secrets are stored.

CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY,
    session_id      UUID NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    spent_at        TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE device_grants (
    device_hash     TEXT PRIMARY KEY,
    user_code_hash  TEXT NOT NULL UNIQUE,
    client_name     TEXT NOT NULL,
    ip              TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    interval_seconds INTEGER NOT NULL,
    last_poll_at    TIMESTAMPTZ,
    decision        TEXT NOT NULL,      -- 'pending' | 'approved' | 'denied'
    user_id         UUID                -- who approved or denied
);

-- The audit log's hash chain (API.md §14). Rows written before this migration are numbered in
-- the order they happened and hashed by the server inside this migration's transaction.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
UPDATE audit_log SET seq = numbered.seq
FROM (SELECT id, row_number() OVER (ORDER BY occurred_at, id) AS seq FROM audit_log) AS numbered
WHERE audit_log.id = numbered.id;
CREATE UNIQUE INDEX audit_log_by_seq ON audit_log (seq);

-- The chain's head. Appending updates this one row, so concurrent appenders queue on its row
-- lock and each extends the head the previous one committed: the chain never forks.
CREATE TABLE audit_chain (
    only_row        BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
    seq             BIGINT NOT NULL,
    hash            TEXT NOT NULL
);
INSERT INTO audit_chain (seq, hash)
VALUES (0, '0000000000000000000000000000000000000000000000000000000000000000');
