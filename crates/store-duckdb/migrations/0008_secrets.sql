-- Secrets the server keeps for itself (the JWT key), by name. Kept in the database rather than a
-- file so that every process sharing the database agrees on them.

CREATE TABLE secrets (
    name            VARCHAR PRIMARY KEY,
    value           BLOB NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
