//! Bringing the schema up to date. Every pending migration applies in one transaction, under
//! a transaction-scoped advisory lock: of N replicas starting together, the first migrates and
//! the others, waiting on the lock, find nothing left to do. PostgreSQL's DDL is
//! transactional, so a failed migration leaves the schema as it was.

use crate::errors::ConnectError;
use deadpool_postgres::Object;

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
        name: "cli_sessions_and_audit_chain",
        sql: include_str!("../migrations/0002_cli_sessions_and_audit_chain.sql"),
    },
    Migration {
        version: 3,
        name: "device_approver_session",
        sql: include_str!("../migrations/0003_device_approver_session.sql"),
    },
];

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The advisory lock key of migrations ("da migrt", as bytes).
const MIGRATION_LOCK: i64 = 0x6461_5f6d_6967_7274;

/// Applies what is pending; the version the schema is at afterwards.
pub(crate) async fn migrate(
    client: &mut Object,
    migrations: &'static [Migration],
) -> Result<i64, ConnectError> {
    let unreachable = |e: tokio_postgres::Error| ConnectError::Unreachable(e.to_string());
    let tx = client.transaction().await.map_err(unreachable)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(unreachable)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)",
    )
    .await
    .map_err(unreachable)?;
    let current: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations",
            &[],
        )
        .await
        .map_err(unreachable)?
        .get(0);
    let supported = migrations.last().map_or(0, |m| m.version);
    if current > supported {
        return Err(ConnectError::TooNew {
            found: current,
            supported,
        });
    }
    for migration in migrations.iter().filter(|m| m.version > current) {
        let failed = |e: tokio_postgres::Error| ConnectError::Migration {
            version: migration.version,
            name: migration.name,
            message: e
                .as_db_error()
                .map_or_else(|| e.to_string(), |db| db.message().to_owned()),
        };
        tx.batch_execute(migration.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(failed)?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied migration"
        );
    }
    if supported > current {
        let has_chain: bool = tx
            .query_one("SELECT to_regclass('audit_chain') IS NOT NULL", &[])
            .await
            .map_err(unreachable)?
            .get(0);
        if has_chain {
            let hashed = crate::audit::chain_unhashed(&tx).await.map_err(|e| {
                ConnectError::Unreachable(format!("could not hash the audit log: {e}"))
            })?;
            if hashed > 0 {
                tracing::info!(
                    rows = hashed,
                    "added the audit log's earlier rows to its hash chain"
                );
            }
        }
    }
    tx.commit().await.map_err(unreachable)?;
    Ok(supported.max(current))
}
