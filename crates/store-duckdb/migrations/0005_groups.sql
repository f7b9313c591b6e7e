-- Groups that grant roles, memberships (added by an admin, or mirrored from the identity
-- provider's groups claim), and whether a user came through single sign-on.
-- No UNIQUE indexes on purpose (see 0002): name uniqueness (case-insensitive, via name_key) and
-- one membership per (group, user) are checked by the single writer inside each write.

ALTER TABLE users ADD COLUMN sso BOOLEAN DEFAULT false;

CREATE TABLE groups (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    name_key        VARCHAR NOT NULL,   -- lower(name), for case-insensitive uniqueness
    description     VARCHAR NOT NULL,
    role            VARCHAR,            -- the role membership grants, if any
    external_ids    VARCHAR NOT NULL,   -- a JSON array of the identity provider's group values
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX groups_by_name_key ON groups (name_key);

CREATE TABLE memberships (
    group_id        VARCHAR NOT NULL,
    user_id         VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,   -- 'admin' | 'sso'
    added_at        TIMESTAMP NOT NULL
);
CREATE INDEX memberships_by_group ON memberships (group_id);
CREATE INDEX memberships_by_user ON memberships (user_id);

-- Values that may be used once (a single sign-on `state`), kept until they expire.
CREATE TABLE single_use (
    key             VARCHAR NOT NULL,   -- a hash, never the value itself
    expires_at      TIMESTAMP NOT NULL
);
CREATE INDEX single_use_by_key ON single_use (key);
