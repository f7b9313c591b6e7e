-- Personal access tokens. Only the SHA-256 of a token is stored; the prefix (first 12
-- characters) is shown so people can tell tokens apart.

CREATE TABLE tokens (
    id              VARCHAR PRIMARY KEY,
    user_id         VARCHAR NOT NULL,
    name            VARCHAR NOT NULL,
    prefix          VARCHAR NOT NULL,
    token_hash      VARCHAR NOT NULL UNIQUE,
    role            VARCHAR,            -- narrows the owner's role when set
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP,          -- NULL: never
    last_used_at    TIMESTAMP,
    last_used_ip    VARCHAR,
    revoked_at      TIMESTAMP
);
CREATE INDEX tokens_by_user ON tokens (user_id);
