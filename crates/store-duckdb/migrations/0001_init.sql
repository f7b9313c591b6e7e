-- Users, login sessions and the audit log.
-- Timestamps are UTC. Ids are UUID strings. Emails are stored normalised (trimmed, lower-case),
-- which makes the UNIQUE constraint case-insensitive.

CREATE TABLE users (
    id              VARCHAR PRIMARY KEY,
    email           VARCHAR NOT NULL UNIQUE,
    name            VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,
    active          BOOLEAN NOT NULL,
    password_hash   VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    last_login_at   TIMESTAMP,
    deactivated_at  TIMESTAMP,
    deactivated_by  VARCHAR
);

CREATE TABLE sessions (
    id              VARCHAR PRIMARY KEY,
    user_id         VARCHAR NOT NULL,
    device_label    VARCHAR NOT NULL,
    ip              VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    last_active_at  TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE audit_log (
    id              VARCHAR PRIMARY KEY,
    occurred_at     TIMESTAMP NOT NULL,
    actor_id        VARCHAR,
    actor_email     VARCHAR,
    action          VARCHAR NOT NULL,
    resource        VARCHAR,
    params          VARCHAR NOT NULL,   -- a JSON object
    ip              VARCHAR
);
CREATE INDEX audit_log_by_time ON audit_log (occurred_at);
