//! `DuckDbStore` itself: the file, the one writer connection, the reader pool, and the two
//! ways in (`read`, `write_audited`) every SQL module goes through.
//!
//! DuckDB allows one process per file and rejects concurrent updates of one row, so: every call
//! runs on the blocking pool; writes go through one writer connection behind a mutex (which
//! serialises them: each write transaction sees every earlier one committed, which is what
//! makes the store's read-modify-write methods atomic); reads take a long-lived cloned
//! connection from a small pool.

use crate::errors::store_error;
use crate::migrate::{self, OpenError};
use da_domain::store::{AuditRecord, StoreError};
use duckdb::{Connection, Transaction};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Reader connections kept for reuse; more are cloned on demand under load.
const IDLE_READERS: usize = 8;

#[derive(Clone)]
pub struct DuckDbStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    schema_version: i64,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Audit rows waiting for the writer, each with who waits for it (see `insert_audit`).
    pending_audit: Mutex<Vec<PendingAudit>>,
}

type PendingAudit = (
    AuditRecord,
    tokio::sync::oneshot::Sender<Result<(), StoreError>>,
);

/// How a write transaction ends.
pub(crate) enum Finish<T> {
    /// Commit, with the audit row.
    Audited(T),
    /// Commit without the audit row: nothing changed (revoking twice, say).
    Quiet(T),
    /// Roll back: a guard refused the change.
    Refused(T),
}

impl DuckDbStore {
    /// Opens (or creates) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let mut conn = migrate::open_connection(path)?;
        let schema_version = migrate::migrate(&mut conn, path)?;
        let hashed = crate::audit::chain_unhashed(&mut conn).map_err(|err| OpenError::Open {
            path: path.to_owned(),
            message: format!("could not hash the audit log: {err}"),
        })?;
        if hashed > 0 {
            tracing::info!(
                rows = hashed,
                "added the audit log's earlier rows to its hash chain"
            );
        }
        Ok(DuckDbStore {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                schema_version,
                writer: Mutex::new(conn),
                readers: Mutex::new(Vec::new()),
                pending_audit: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn schema_version(&self) -> i64 {
        self.inner.schema_version
    }

    /// Runs a read on a pooled connection, off the async workers.
    pub(crate) async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, duckdb::Error> + Send + 'static,
    {
        let inner = self.inner.clone();
        run_blocking(move || {
            let conn = match lock(&inner.readers).pop() {
                Some(conn) => conn,
                None => lock(&inner.writer).try_clone().map_err(store_error)?,
            };
            let result = work(&conn).map_err(store_error);
            let mut idle = lock(&inner.readers);
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
    }

    /// Runs `work` in a transaction on the single writer connection, and writes `audit` in the
    /// same transaction when `work` says the change happened: the one place the
    /// "change + audit row, atomically" rule is written.
    pub(crate) async fn write_audited<T, F>(
        &self,
        audit: Option<&AuditRecord>,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<Finish<T>, duckdb::Error> + Send + 'static,
    {
        let inner = self.inner.clone();
        let audit = audit.cloned();
        run_blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn.transaction().map_err(store_error)?;
            let outcome = match work(&tx).map_err(store_error)? {
                Finish::Audited(value) => {
                    if let Some(audit) = &audit {
                        crate::audit::insert(&tx, audit).map_err(store_error)?;
                    }
                    value
                }
                Finish::Quiet(value) => value,
                // Dropping the transaction rolls it back.
                Finish::Refused(value) => return Ok(value),
            };
            tx.commit().map_err(store_error)?;
            Ok(outcome)
        })
        .await
    }
}

impl DuckDbStore {
    /// Writes an audit row that comes with no change (a query, a failed login), committed
    /// before it returns. Group commit: whoever gets the writer first writes every row waiting
    /// by then in one transaction, so a flood of queries costs a commit per batch rather than
    /// per row; a row is never lost, as each call brings its own turn at the writer.
    pub(crate) async fn insert_audit_batched(&self, audit: &AuditRecord) -> Result<(), StoreError> {
        let (done, written) = tokio::sync::oneshot::channel();
        lock(&self.inner.pending_audit).push((audit.clone(), done));
        let inner = self.inner.clone();
        run_blocking(move || {
            let mut conn = lock(&inner.writer);
            let batch = std::mem::take(&mut *lock(&inner.pending_audit));
            if batch.is_empty() {
                // An earlier turn wrote this call's row.
                return Ok(());
            }
            let together = (|| {
                let tx = conn.transaction()?;
                for (row, _) in &batch {
                    crate::audit::insert(&tx, row)?;
                }
                tx.commit()
            })();
            for (row, done) in batch {
                let outcome = match &together {
                    Ok(()) => Ok(()),
                    // One bad row must not cost the others theirs: each alone, then.
                    Err(_) => (|| {
                        let tx = conn.transaction()?;
                        crate::audit::insert(&tx, &row)?;
                        tx.commit()
                    })()
                    .map_err(store_error),
                };
                let _ = done.send(outcome);
            }
            Ok(())
        })
        .await?;
        written
            .await
            .map_err(|_| StoreError::Other("an audit write was dropped".into()))?
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Other(format!("database task failed: {e}")))?
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
