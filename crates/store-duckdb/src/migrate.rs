//! Opening the database file and bringing its schema up to date.

use duckdb::Connection;
use std::path::{Path, PathBuf};

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Applied in order; an applied migration is never edited, only followed by a new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sql: include_str!("../migrations/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "accounts",
        sql: include_str!("../migrations/0002_accounts.sql"),
    },
    Migration {
        version: 3,
        name: "tokens",
        sql: include_str!("../migrations/0003_tokens.sql"),
    },
    Migration {
        version: 4,
        name: "audit_credentials",
        sql: include_str!("../migrations/0004_audit_credentials.sql"),
    },
    Migration {
        version: 5,
        name: "groups",
        sql: include_str!("../migrations/0005_groups.sql"),
    },
    Migration {
        version: 6,
        name: "sso_identity",
        sql: include_str!("../migrations/0006_sso_identity.sql"),
    },
    Migration {
        version: 7,
        name: "datasets",
        sql: include_str!("../migrations/0007_datasets.sql"),
    },
    Migration {
        version: 8,
        name: "secrets",
        sql: include_str!("../migrations/0008_secrets.sql"),
    },
    Migration {
        version: 9,
        name: "cli_sessions_and_audit_chain",
        sql: include_str!("../migrations/0009_cli_sessions_and_audit_chain.sql"),
    },
    Migration {
        version: 10,
        name: "device_approver_session",
        sql: include_str!("../migrations/0010_device_approver_session.sql"),
    },
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the database {path} is in use by another process (DuckDB allows one process per file): \
         stop the other da-server or choose another data dir"
    )]
    Locked { path: PathBuf },
    #[error(
        "the database {path} has schema version {found}, newer than this da-server supports \
         ({supported}): run a newer da-server, or restore a backup made for this version"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("could not keep a copy of {path} before migrating it: {source}")]
    Backup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not open the database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("migration {version} ({name}) failed: {message}")]
    Migration {
        version: i64,
        name: &'static str,
        message: String,
    },
}

pub(crate) fn open_connection(path: &Path) -> Result<Connection, OpenError> {
    Connection::open(path).map_err(|err| {
        let message = err.to_string();
        if message.contains("Could not set lock") || message.contains("Conflicting lock") {
            OpenError::Locked {
                path: path.to_owned(),
            }
        } else {
            OpenError::Open {
                path: path.to_owned(),
                message,
            }
        }
    })
}

/// The highest applied version, 0 for a database that has none.
pub(crate) fn current_version(conn: &Connection) -> Result<i64, duckdb::Error> {
    let has_table: i64 = conn.query_row(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'",
        [],
        |row| row.get(0),
    )?;
    if has_table == 0 {
        return Ok(0);
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
}

/// Applies pending migrations. Before touching a database that already has a schema, copies
/// the file aside as `<file>.pre-migrate`.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<i64, OpenError> {
    migrate_with(conn, path, MIGRATIONS)
}

pub(crate) fn migrate_with(
    conn: &mut Connection,
    path: &Path,
    migrations: &'static [Migration],
) -> Result<i64, OpenError> {
    let open_err = |err: duckdb::Error| OpenError::Open {
        path: path.to_owned(),
        message: err.to_string(),
    };
    let current = current_version(conn).map_err(open_err)?;
    let supported = migrations.last().map_or(0, |m| m.version);
    if current > supported {
        return Err(OpenError::TooNew {
            path: path.to_owned(),
            found: current,
            supported,
        });
    }
    let pending: Vec<&Migration> = migrations.iter().filter(|m| m.version > current).collect();
    if pending.is_empty() {
        return Ok(current);
    }
    if current > 0 {
        // Make the file self-contained (no WAL) before copying it.
        conn.execute_batch("CHECKPOINT").map_err(open_err)?;
        let backup = backup_path(path);
        std::fs::copy(path, &backup).map_err(|source| OpenError::Backup {
            path: path.to_owned(),
            source,
        })?;
        tracing::info!(backup = %backup.display(), from = current, "kept a copy of the database before migrating");
    }
    for migration in pending {
        let failed = |err: duckdb::Error| OpenError::Migration {
            version: migration.version,
            name: migration.name,
            message: err.to_string(),
        };
        let tx = conn.transaction().map_err(failed)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version BIGINT PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)",
        )
        .map_err(failed)?;
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, current_timestamp::TIMESTAMP)",
            duckdb::params![migration.version, migration.name],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    Ok(supported)
}

pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pre-migrate");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    static V1: &[Migration] = &[Migration {
        version: 1,
        name: "one",
        sql: "CREATE TABLE a (x INTEGER);",
    }];
    static V2: &[Migration] = &[
        Migration {
            version: 1,
            name: "one",
            sql: "CREATE TABLE a (x INTEGER);",
        },
        Migration {
            version: 2,
            name: "two",
            sql: "ALTER TABLE a ADD COLUMN y INTEGER;",
        },
    ];

    #[test]
    fn an_existing_database_is_copied_aside_before_it_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("da.duckdb");
        {
            let mut conn = open_connection(&path).unwrap();
            assert_eq!(migrate_with(&mut conn, &path, V1).unwrap(), 1);
            conn.execute_batch("INSERT INTO a VALUES (42)").unwrap();
        }
        assert!(
            !backup_path(&path).exists(),
            "a fresh database needs no copy"
        );
        let mut conn = open_connection(&path).unwrap();
        assert_eq!(migrate_with(&mut conn, &path, V2).unwrap(), 2);
        assert!(backup_path(&path).exists());
        drop(conn);

        // The copy is the database as it was: version 1, with its data.
        let old = open_connection(&backup_path(&path)).unwrap();
        assert_eq!(current_version(&old).unwrap(), 1);
        let x: i64 = old
            .query_row("SELECT x FROM a", [], |row| row.get(0))
            .unwrap();
        assert_eq!(x, 42);
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("da.duckdb");
        {
            let mut conn = open_connection(&path).unwrap();
            migrate_with(&mut conn, &path, V2).unwrap();
        }
        let mut conn = open_connection(&path).unwrap();
        let err = migrate_with(&mut conn, &path, V1).unwrap_err();
        assert!(matches!(
            err,
            OpenError::TooNew {
                found: 2,
                supported: 1,
                ..
            }
        ));
        assert!(
            err.to_string()
                .contains("newer than this da-server supports")
        );
    }

    /// Rows from before the hash chain get a `seq` in the order they happened and their hashes
    /// when the database is migrated; new rows extend the chain.
    #[tokio::test(flavor = "multi_thread")]
    async fn rows_written_before_the_chain_join_it_when_migrated() {
        use da_domain::Store;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("da.duckdb");
        {
            let mut conn = open_connection(&path).unwrap();
            let before_chain: &'static [Migration] = &MIGRATIONS[..8];
            assert_eq!(migrate_with(&mut conn, &path, before_chain).unwrap(), 8);
            conn.execute_batch(
                "INSERT INTO audit_log (id, occurred_at, action, params) VALUES
                   ('00000000-0000-0000-0000-000000000003', '2026-01-03 00:00:00', 'c', '{}'),
                   ('00000000-0000-0000-0000-000000000001', '2026-01-01 00:00:00', 'a', '{\"k\": 1}'),
                   ('00000000-0000-0000-0000-000000000002', '2026-01-02 00:00:00.5', 'b', '{}');",
            )
            .unwrap();
        }
        let store = crate::DuckDbStore::open(&path).unwrap();
        store
            .insert_audit(&da_domain::audit::record("d", "test"))
            .await
            .unwrap();
        let rows = store.audit_chain(0, 10).await.unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.record.action.as_str()).collect();
        assert_eq!(actions, ["a", "b", "c", "d"]);
        let mut check = da_domain::audit_chain::ChainCheck::default();
        assert!(rows.iter().all(|row| check.push(row)), "{rows:?}");
        assert_eq!(check.rows(), 4);
        drop(store);
        // Opening again hashes nothing twice.
        let again = crate::DuckDbStore::open(&path).unwrap();
        assert_eq!(again.audit_chain(0, 10).await.unwrap(), rows);
    }

    #[test]
    fn the_real_migrations_apply_and_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("da.duckdb");
        let mut conn = open_connection(&path).unwrap();
        assert_eq!(migrate(&mut conn, &path).unwrap(), latest_version());
        assert_eq!(
            migrate(&mut conn, &path).unwrap(),
            latest_version(),
            "idempotent"
        );
        let recorded: i64 = conn
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(recorded, MIGRATIONS.len() as i64);
    }
}
