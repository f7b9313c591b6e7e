//! `PgStore` itself: the connection pool and the one way a write goes (`write!`: a transaction,
//! the writers' lock, the change, its audit row, commit).
//!
//! Writes that check before they change (the last active admin, bootstrap, a link redeemed
//! once, unique group names, membership syncs) must not interleave, on one replica or across
//! several. Each takes a transaction-scoped advisory lock first, so such writes run one at a
//! time database-wide, exactly as on the DuckDB store's single writer: at READ COMMITTED,
//! every statement after the lock sees every earlier writer's commit, so the checks written
//! for DuckDB hold here unchanged, and the contract suite proves both the same way. Writes
//! with no check (activity stamps, audit rows alone, single-use claims, which a primary key
//! decides) skip the lock. Reads never wait for it.

use crate::errors::{ConnectError, pool_error};
use crate::migrate;
use crate::rows::DbError;
use crate::tls::Tls;
use da_domain::store::{AuditRecord, StoreError};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::config::SslMode;

/// `application_name` of each replica's listening connection (see `notify`).
pub const LISTENER_NAME: &str = "da-server listener";

/// The advisory lock key of serialised writes ("da writer", as bytes).
const WRITER_LOCK: i64 = 0x6461_5f77_7269_7465;

/// How the store connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections per replica, at most.
    pub pool_size: usize,
    /// A PEM bundle of the CAs to trust for TLS, instead of the public web roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 16,
            ca_file: None,
        }
    }
}

#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    schema_version: i64,
    /// This replica's name in what it broadcasts, so it can skip its own messages.
    origin: uuid::Uuid,
    changes: tokio::sync::broadcast::Sender<da_domain::store::RemoteChange>,
    /// Whether the listener is listening now (for a subscriber that arrives late).
    listening: Arc<std::sync::atomic::AtomicBool>,
    listener: tokio::task::JoinHandle<()>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// How a write transaction ends.
pub(crate) enum Finish<T> {
    /// Commit, with the audit row.
    Audited(T),
    /// Commit without the audit row: nothing changed (revoking twice, say).
    Quiet(T),
    /// Roll back: a guard refused the change.
    Refused(T),
}

impl PgStore {
    /// Connects, then applies pending migrations (once across replicas starting together).
    pub async fn connect(url: &str, options: &PgOptions) -> Result<PgStore, ConnectError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| ConnectError::Url(e.to_string()))?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let mut config = config;
        // tokio-postgres's default, `prefer`, falls back to plain text when the server (or a
        // man in the middle) declines TLS: here TLS is required unless the URL says
        // `sslmode=disable`.
        let tls = match config.get_ssl_mode() {
            SslMode::Disable => Tls::None,
            _ => {
                config.ssl_mode(SslMode::Require);
                Tls::Rustls(crate::tls::rustls(options.ca_file.as_deref())?)
            }
        };
        // A replica that stalls inside a transaction (paused, cut off) must not hold the
        // writers' lock, or any row, for ever.
        let options_line = format!(
            "{} -c lock_timeout=10s -c idle_in_transaction_session_timeout=30s",
            config.get_options().unwrap_or_default()
        );
        config.options(options_line.trim());
        // A connection to a database host that vanished is noticed within seconds, not at
        // the kernel's two-hour default.
        if config.get_application_name().is_none() {
            config.application_name("da-server");
        }
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3));
        let manager = match &tls {
            Tls::None => {
                Manager::from_config(config.clone(), tokio_postgres::NoTls, manager_config)
            }
            Tls::Rustls(tls) => Manager::from_config(config.clone(), tls.clone(), manager_config),
        };
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            // A replica that lost its database answers 503 within seconds, not a minute.
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(3)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| ConnectError::Url(e.to_string()))?;
        let mut client = pool
            .get()
            .await
            .map_err(|e| ConnectError::Unreachable(pool_error(e).to_string()))?;
        let schema_version = migrate::migrate(&mut client, migrate::MIGRATIONS).await?;
        drop(client);
        let origin = uuid::Uuid::new_v4();
        // Room for bursts; a listener that falls further behind resyncs (`Lagged`).
        let (changes, _) = tokio::sync::broadcast::channel(1024);
        let mut listener_config = config;
        listener_config.application_name(LISTENER_NAME);
        let listening = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = tokio::spawn(crate::notify::listen(
            listener_config,
            tls,
            origin,
            changes.clone(),
            listening.clone(),
        ));
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool,
                schema_version,
                origin,
                changes,
                listening,
                listener,
            }),
        })
    }

    pub(crate) fn schema_version(&self) -> i64 {
        self.inner.schema_version
    }

    pub(crate) fn origin(&self) -> uuid::Uuid {
        self.inner.origin
    }

    /// A receiver of what the other replicas change. Subscribers start distrusting their
    /// cache (see `Services`) until they hear `Resync`: one that subscribes after the listener
    /// came up gets one now.
    pub(crate) fn subscribe(
        &self,
    ) -> tokio::sync::broadcast::Receiver<da_domain::store::RemoteChange> {
        let receiver = self.inner.changes.subscribe();
        if self
            .inner
            .listening
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            let _ = self
                .inner
                .changes
                .send(da_domain::store::RemoteChange::Resync);
        }
        receiver
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_error)
    }

    /// How many connections are open, and how many of them idle (for metrics and health).
    pub fn pool_status(&self) -> (usize, usize) {
        let status = self.inner.pool.status();
        (status.size, status.available)
    }
}

/// Starts a write transaction; with `serialised`, takes the writers' lock first.
pub(crate) async fn begin(
    client: &mut Object,
    serialised: bool,
) -> Result<deadpool_postgres::Transaction<'_>, DbError> {
    let tx = client.transaction().await?;
    if serialised {
        let lock = tx
            .prepare_cached("SELECT pg_advisory_xact_lock($1)")
            .await?;
        tx.execute(&lock, &[&WRITER_LOCK]).await?;
    }
    Ok(tx)
}

/// Ends a write transaction as `outcome` says, writing `audit` with an audited change.
pub(crate) async fn finish<T>(
    tx: deadpool_postgres::Transaction<'_>,
    outcome: Finish<T>,
    audit: Option<&AuditRecord>,
) -> Result<T, DbError> {
    match outcome {
        Finish::Audited(value) => {
            if let Some(audit) = audit {
                crate::audit::insert(&tx, audit).await?;
            }
            tx.commit().await?;
            Ok(value)
        }
        Finish::Quiet(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Finish::Refused(value) => {
            tx.rollback().await?;
            Ok(value)
        }
    }
}

/// A write: `write!(store, audit, serialised, |tx| { ...; Ok(Finish::…) })`. The body runs in
/// one transaction (after the writers' lock when `serialised`), and [`finish`] ends it: the
/// one place the "change + audit row, atomically" rule is written. An error inside rolls back.
macro_rules! write {
    ($store:expr, $audit:expr, $serialised:expr, |$tx:ident| $body:block) => {{
        let mut client = $store.client().await?;
        let $tx = crate::pool::begin(&mut client, $serialised).await?;
        let outcome: Result<crate::pool::Finish<_>, crate::rows::DbError> = async { $body }.await;
        Ok(crate::pool::finish($tx, outcome?, $audit).await?)
    }};
}
pub(crate) use write;

/// A read on a pooled connection: `read!(store, |db| users::by_id(db, id))`.
macro_rules! read {
    ($store:expr, |$db:ident| $body:expr) => {{
        let client = $store.client().await?;
        let $db = &client;
        Ok($body.await?)
    }};
}
pub(crate) use read;
