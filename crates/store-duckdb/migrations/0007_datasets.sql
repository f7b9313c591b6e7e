-- Datasets (Parquet or CSV files in DA_DATASETS_DIR) and the groups they are granted to.
-- As elsewhere (see 0002), uniqueness is kept by the single writer, not by UNIQUE indexes.

CREATE TABLE datasets (
    name            VARCHAR PRIMARY KEY,   -- ^[a-z][a-z0-9_]{0,62}$, also the file's stem
    description     VARCHAR NOT NULL,
    format          VARCHAR NOT NULL,      -- 'parquet' | 'csv'
    size_bytes      BIGINT NOT NULL,
    row_count       BIGINT NOT NULL,
    columns         VARCHAR NOT NULL,      -- a JSON array of {name, type}
    sha256          VARCHAR NOT NULL,
    min_role        VARCHAR,               -- readers at or above it; NULL: grants and admins only
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE dataset_grants (
    dataset         VARCHAR NOT NULL,
    group_id        VARCHAR NOT NULL,
    granted_at      TIMESTAMP NOT NULL
);
CREATE INDEX dataset_grants_by_dataset ON dataset_grants (dataset);
CREATE INDEX dataset_grants_by_group ON dataset_grants (group_id);
