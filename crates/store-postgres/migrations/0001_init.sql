-- The whole schema at the DuckDB store's version 7, in PostgreSQL's own types. This backend
-- numbers its migrations on its own; the next change to the schema is 0002 here and the next
-- number there.
--
-- Writes that check before they change (the safeguards) are serialised by a transaction-scoped
-- advisory lock (see pool.rs); the unique keys below hold whatever a writer does.

CREATE TABLE users (
    id              UUID PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,      -- normalised (trimmed, lower-case)
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    active          BOOLEAN NOT NULL,
    password_hash   TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    last_login_at   TIMESTAMPTZ,
    deactivated_at  TIMESTAMPTZ,
    deactivated_by  UUID,
    sso             BOOLEAN NOT NULL DEFAULT false,
    oidc_issuer     TEXT,
    oidc_subject    TEXT
);
CREATE INDEX users_admins ON users (role, active);

CREATE TABLE sessions (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    device_label    TEXT NOT NULL,
    ip              TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    last_active_at  TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE tokens (
    id              UUID PRIMARY KEY,
    user_id         UUID NOT NULL,
    name            TEXT NOT NULL,
    prefix          TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the token
    role            TEXT,                      -- narrows the owner's role when set
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ,               -- NULL: never
    last_used_at    TIMESTAMPTZ,
    last_used_ip    TEXT,
    revoked_at      TIMESTAMPTZ
);
CREATE INDEX tokens_by_user ON tokens (user_id);

CREATE TABLE one_time_tokens (
    user_id         UUID NOT NULL,
    kind            TEXT NOT NULL,             -- 'reset' | 'setup'
    token_hash      TEXT NOT NULL,             -- hex SHA-256 of the secret
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);

CREATE TABLE audit_log (
    id              UUID PRIMARY KEY,
    occurred_at     TIMESTAMPTZ NOT NULL,
    actor_id        UUID,
    actor_email     TEXT,
    action          TEXT NOT NULL,
    resource        TEXT,
    params          JSONB NOT NULL,
    ip              TEXT,
    credential_kind TEXT,                      -- 'session' | 'pat'
    credential_id   UUID
);
CREATE INDEX audit_log_by_time ON audit_log (occurred_at DESC, id DESC);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id);

CREATE TABLE groups (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    role            TEXT,                      -- the role membership grants, if any
    external_ids    JSONB NOT NULL,            -- the identity provider's group values
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX groups_by_name_key ON groups (lower(name));

CREATE TABLE memberships (
    group_id        UUID NOT NULL,
    user_id         UUID NOT NULL,
    source          TEXT NOT NULL,             -- 'admin' | 'sso'
    added_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE single_use (
    key             TEXT PRIMARY KEY,          -- a hash, never the value itself
    expires_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE datasets (
    name            TEXT PRIMARY KEY,
    description     TEXT NOT NULL,
    format          TEXT NOT NULL,             -- 'parquet' | 'csv'
    size_bytes      BIGINT NOT NULL,
    row_count       BIGINT NOT NULL,
    columns         JSONB NOT NULL,            -- [{name, type}]
    sha256          TEXT NOT NULL,
    min_role        TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE dataset_grants (
    dataset         TEXT NOT NULL,
    group_id        UUID NOT NULL,
    granted_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dataset, group_id)
);
CREATE INDEX dataset_grants_by_group ON dataset_grants (group_id);

-- Secrets every replica must share (the JWT key), by name.
CREATE TABLE secrets (
    name            TEXT PRIMARY KEY,
    value           BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
