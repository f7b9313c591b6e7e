//! Start-up and shutdown: data dir, secrets, database, the first admin, the listener, the
//! background flusher, and a graceful drain on SIGTERM / Ctrl-C.

use crate::config::{Config, DatabaseUrl, LogFormat};
use crate::state::AppState;
use anyhow::{Context, bail};
use da_domain::{Services, ServicesConfig, Store};
use da_store_duckdb::DuckDbStore;
use leptos::config::LeptosOptions;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How often batched "last active" stamps are written.
const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Where the JWT secret lived before the database kept it.
const LEGACY_JWT_SECRET_FILE: &str = "jwt_secret";
/// Its name among the database's secrets.
const JWT_SECRET_NAME: &str = "jwt";

pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Human => builder.init(),
    }
}

/// Creates `dir` (0700) if needed.
fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data dir {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// The configured JWT secret, or else the one the database keeps, which every replica sharing
/// it reads. The first start stores a new one; a data dir from before the database kept it
/// hands its `jwt_secret` file on, so sessions survive the upgrade.
async fn jwt_secret(config: &Config, store: &dyn Store) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let legacy = config.data_dir.join(LEGACY_JWT_SECRET_FILE);
    let candidate = match std::fs::read_to_string(&legacy) {
        Ok(text) if text.trim().len() >= 32 => text.trim().as_bytes().to_vec(),
        Ok(_) => bail!(
            "{} holds a secret shorter than 32 bytes; delete it to generate a new one",
            legacy.display()
        ),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 48];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
            hex::encode(bytes).into_bytes()
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read {}", legacy.display())),
    };
    let secret = store
        .shared_secret(JWT_SECRET_NAME, &candidate)
        .await
        .context("cannot read the JWT secret from the database")?;
    if secret.len() < 32 {
        bail!("the database holds a JWT secret shorter than 32 bytes");
    }
    if secret == candidate && !legacy.exists() {
        tracing::info!("generated a new JWT secret (kept in the database)");
    }
    Ok(secret)
}

/// Leptos' options; pages reference the bundle under `pkg/<version>` (see `bundle`).
pub fn leptos_options(config: &Config, bundle_version: &str) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("frontend")
        .site_root(config.site_dir.to_string_lossy().to_string())
        .site_pkg_dir(format!("pkg/{bundle_version}"))
        .build()
}

/// The backend named by the scheme of `DA_DATABASE_URL` (atuin-style: one `Store` per crate).
async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match &config.database {
        DatabaseUrl::DuckDb(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || DuckDbStore::open(&path))
                .await
                .context("database open task failed")??;
            tracing::info!(path = %store.path().display(), "database ready (DuckDB)");
            Ok(Arc::new(store))
        }
        DatabaseUrl::Postgres(url) => {
            let options = da_store_postgres::PgOptions {
                pool_size: config.database_pool_size,
                ca_file: config.database_ca_file.clone(),
            };
            let store = da_store_postgres::PgStore::connect(url, &options).await?;
            tracing::info!(pool_size = options.pool_size, "database ready (PostgreSQL)");
            Ok(Arc::new(store))
        }
    }
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    ensure_private_dir(&config.data_dir)?;
    let store = open_store(&config).await?;
    let secret = jwt_secret(&config, store.as_ref()).await?;

    let mailer: Option<Arc<dyn da_domain::Mailer>> = match (&config.smtp_url, &config.smtp_from) {
        (Some(url), Some(from)) => Some(Arc::new(crate::mail::SmtpMailer::new(url, from)?)),
        _ => None,
    };
    let oidc = match &config.oidc {
        Some(settings) => Some(da_domain::oidc::Oidc {
            settings: settings.clone(),
            http: Arc::new(crate::oidc_http::ReqwestOidcHttp::new()?),
        }),
        None => None,
    };
    std::fs::create_dir_all(&config.data.datasets_dir).with_context(|| {
        format!(
            "cannot create the datasets directory {}",
            config.data.datasets_dir.display()
        )
    })?;
    let engine = da_engine_duckdb::DuckDbEngine::new(da_engine_duckdb::Limits {
        concurrency: config.data.query_concurrency,
        timeout: std::time::Duration::from_secs(config.data.query_timeout_seconds),
        memory_mb: config.data.query_memory_mb,
        threads: config.data.query_threads,
    })
    .map_err(|e| anyhow::anyhow!("cannot start the query engine: {e}"))?;
    let data = da_domain::datasets::Data::new(
        config.data.datasets_dir.clone(),
        Arc::new(engine),
        config.data.query_timeout_seconds,
    );
    let services = Services::new(
        store,
        ServicesConfig {
            jwt_secret: secret,
            session_hours: config.session_hours,
            cli_access_seconds: config.cli_access_seconds,
            cli_refresh_days: config.cli_refresh_days,
            leak_report_secret: config.leak_report_secret.clone(),
            bootstrap_token: config.bootstrap_token.clone(),
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            public_url: config.public_url.clone(),
            rate_limits: config.rate_limits,
            pat_max_days: config.pat_max_days,
            cli_dist_dir: Some(config.cli_dist_dir.clone()),
        },
        mailer,
        oidc,
        Some(data),
    );

    match (&config.admin_email, &config.admin_password) {
        (Some(email), Some(password)) => match services.seed_admin(email, password).await {
            Ok(true) => tracing::info!(%email, "created the first admin from DA_ADMIN_EMAIL"),
            Ok(false) => tracing::debug!("an admin exists; DA_ADMIN_EMAIL ignored"),
            Err(err) => bail!("cannot create the admin from DA_ADMIN_EMAIL: {err}"),
        },
        _ => {
            if !services.admin_exists().await? {
                tracing::warn!(
                    "no administrator exists yet: set DA_ADMIN_EMAIL and DA_ADMIN_PASSWORD and restart, \
                     or POST /auth/bootstrap {{\"email\", \"password\"}} once"
                );
            }
        }
    }
    if let Some(settings) = &config.oidc {
        tracing::info!(issuer = %settings.issuer, redirect_uri = %settings.redirect_uri, "single sign-on enabled");
        // Read the provider's documents now, so a wrong issuer shows in the log at start-up
        // rather than at the first sign-in; a failure is not fatal (the provider may be down).
        let warm = services.clone();
        tokio::spawn(async move { warm.warm_up_sso().await });
    }
    if !config.site_dir.join("pkg").is_dir() {
        tracing::warn!(site_dir = %config.site_dir.display(), "no web UI bundle found: pages render without interactivity (build it with ./dev build)");
    }

    let pkg_dir = config.site_dir.join("pkg");
    let bundle_version = tokio::task::spawn_blocking(move || crate::bundle::version(&pkg_dir))
        .await
        .context("bundle hashing task failed")?;
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let local = listener.local_addr()?;
    let state = AppState {
        services: services.clone(),
        leptos_options: leptos_options(&config, &bundle_version),
        config: Arc::new(config),
    };
    let app = crate::web::router(state);

    let flusher = tokio::spawn(flush_periodically(services.clone()));
    // A stable line on stdout: people read it, and test harnesses wait for it.
    println!("da-server listening on http://{local}");
    tracing::info!(%local, "listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;

    flusher.abort();
    if let Err(err) = services.flush_activity().await {
        tracing::warn!(error = %err, "could not write the last activity stamps");
    }
    tracing::info!("stopped");
    Ok(())
}

async fn flush_periodically(services: Services) {
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(err) = services.flush_activity().await {
            tracing::warn!(error = %err, "activity flush failed; will retry");
        }
        services.prune();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
