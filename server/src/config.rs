//! Server configuration: defaults ← optional TOML file ← `DA_*` environment ← command-line flags.
//!
//! clap reads flags and their `DA_*` variables (flags win); a value neither gives falls back to
//! the TOML file named by `--config` / `DA_CONFIG`, then to the default. Secrets never appear in
//! `Debug` output.

use anyhow::{Context, bail};
use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

// No `Debug`: the flags carry secrets (the JWT key, the OIDC client secret).
#[derive(Parser, Default)]
#[command(
    name = "da-server",
    version,
    about = "The da access server: REST API, web UI and CLI downloads"
)]
pub struct Args {
    /// TOML file with any of the settings below (keys as the flags, with `_` for `-`).
    #[arg(long, env = "DA_CONFIG")]
    pub config: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:8000]
    #[arg(long, env = "DA_BIND")]
    pub bind: Option<SocketAddr>,
    /// Directory for the DuckDB file and generated secrets [default: ./data]
    #[arg(long, env = "DA_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Storage backend [default: duckdb://$DA_DATA_DIR/da.duckdb]
    #[arg(long, env = "DA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// PostgreSQL connections per replica, at most [default: 16]
    #[arg(long, env = "DA_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<usize>,
    /// PEM bundle of the CAs to trust for PostgreSQL's TLS [default: the public web roots]
    #[arg(long, env = "DA_DATABASE_CA_FILE")]
    pub database_ca_file: Option<PathBuf>,
    /// HS256 key for session tokens, at least 32 bytes [default: generated into the data dir]
    #[arg(long, env = "DA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Base URL for links and the install script [default: the request's origin]
    #[arg(long, env = "DA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Create this admin at start-up when no admin exists (with --admin-password)
    #[arg(long, env = "DA_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    #[arg(long, env = "DA_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Unlocks POST /auth/bootstrap after the first admin exists
    #[arg(long, env = "DA_BOOTSTRAP_TOKEN", hide_env_values = true)]
    pub bootstrap_token: Option<String>,
    /// How many X-Forwarded-For entries (from the right) to trust for the client IP [default: 0]
    #[arg(long, env = "DA_TRUSTED_PROXY_HOPS")]
    pub trusted_proxy_hops: Option<usize>,
    /// Session lifetime in hours [default: 24]
    #[arg(long, env = "DA_SESSION_HOURS")]
    pub session_hours: Option<i64>,
    /// Admin cap on personal access token lifetime, in days [default: unset]
    #[arg(long, env = "DA_PAT_MAX_DAYS")]
    pub pat_max_days: Option<i64>,
    /// Lifetime of a CLI session's access token, in seconds [default: 900]
    #[arg(long, env = "DA_CLI_ACCESS_SECONDS")]
    pub cli_access_seconds: Option<i64>,
    /// A CLI session ends after this many days without a refresh [default: 30]
    #[arg(long, env = "DA_CLI_REFRESH_DAYS")]
    pub cli_refresh_days: Option<i64>,
    /// A Bearer secret with which a secret scanner may report leaked tokens [default: unset]
    #[arg(long, env = "DA_LEAK_REPORT_SECRET", hide_env_values = true)]
    pub leak_report_secret: Option<String>,
    /// Where dataset files live [default: $DA_DATA_DIR/datasets]
    #[arg(long, env = "DA_DATASETS_DIR")]
    pub datasets_dir: Option<PathBuf>,
    /// Largest dataset upload, in MiB [default: 1024]
    #[arg(long, env = "DA_DATASET_MAX_MB")]
    pub dataset_max_mb: Option<u64>,
    /// A query running longer is cancelled [default: 30]
    #[arg(long, env = "DA_QUERY_TIMEOUT_SECONDS")]
    pub query_timeout_seconds: Option<u64>,
    /// Memory one query may use, in MiB [default: 1024]
    #[arg(long, env = "DA_QUERY_MEMORY_MB")]
    pub query_memory_mb: Option<u64>,
    /// Queries that run at once; more wait their turn [default: the number of cores]
    #[arg(long, env = "DA_QUERY_CONCURRENCY")]
    pub query_concurrency: Option<usize>,
    /// DuckDB threads one query may use [default: cores / DA_QUERY_CONCURRENCY, at least 1]
    #[arg(long, env = "DA_QUERY_THREADS")]
    pub query_threads: Option<u32>,
    /// Outgoing mail server [default: unset]
    #[arg(long, env = "DA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "DA_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Logins (and reset/setup confirmations) per minute per client IP; 0 = off [default: 10]
    #[arg(long, env = "DA_RATE_LIMIT_LOGIN")]
    pub rate_limit_login: Option<u32>,
    /// Password reset requests per minute per client IP; 0 = off [default: 5]
    #[arg(long, env = "DA_RATE_LIMIT_RESET")]
    pub rate_limit_reset: Option<u32>,
    /// Bootstrap attempts per minute per client IP; 0 = off [default: 3]
    #[arg(long, env = "DA_RATE_LIMIT_BOOTSTRAP")]
    pub rate_limit_bootstrap: Option<u32>,
    /// Where the `da` binary to distribute lives [default: next to the server binary]
    #[arg(long, env = "DA_CLI_DIST_DIR")]
    pub cli_dist_dir: Option<PathBuf>,
    /// The built web UI (wasm bundle, CSS) [default: `site` next to the binary, else ./target/site]
    #[arg(long, env = "DA_SITE_DIR")]
    pub site_dir: Option<PathBuf>,
    /// Single sign-on: the OpenID provider's issuer URL (with the client id and secret)
    #[arg(long, env = "DA_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    #[arg(long, env = "DA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    #[arg(long, env = "DA_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// What the "Sign in with …" button says [default: single sign-on]
    #[arg(long, env = "DA_OIDC_NAME")]
    pub oidc_name: Option<String>,
    /// Scopes asked for [default: openid email profile]
    #[arg(long, env = "DA_OIDC_SCOPES")]
    pub oidc_scopes: Option<String>,
    /// The claim that carries the user's groups [default: groups]
    #[arg(long, env = "DA_OIDC_GROUPS_CLAIM")]
    pub oidc_groups_claim: Option<String>,
    /// Comma-separated email domains that may sign in [default: any]
    #[arg(long, env = "DA_OIDC_ALLOWED_DOMAINS")]
    pub oidc_allowed_domains: Option<String>,
    /// Create unknown users at their first sign-in: true or false [default: true]
    #[arg(long, env = "DA_OIDC_AUTO_CREATE")]
    pub oidc_auto_create: Option<String>,
    /// The role such users get [default: viewer]
    #[arg(long, env = "DA_OIDC_DEFAULT_ROLE")]
    pub oidc_default_role: Option<String>,
    /// Log filter [default: info]
    #[arg(long, env = "DA_LOG")]
    pub log: Option<String>,
    /// `human` or `json` [default: human]
    #[arg(long, env = "DA_LOG_FORMAT")]
    pub log_format: Option<String>,
}

impl Args {
    /// Flags and `DA_*` variables, flags first. A variable set to the empty string counts as
    /// unset, as compose files and env files write "not set" (`DA_ADMIN_EMAIL=`).
    pub fn from_env_and_flags() -> Args {
        use clap::{CommandFactory, FromArgMatches};
        let command = Args::command().mut_args(|arg| {
            let empty = arg
                .get_env()
                .and_then(std::env::var_os)
                .is_some_and(|value| value.is_empty());
            if empty { arg.env(None::<&str>) } else { arg }
        });
        let matches = command.get_matches();
        Args::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

/// Where the data lives, by the scheme of `DA_DATABASE_URL`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `duckdb://PATH`: the embedded file.
    DuckDb(PathBuf),
    /// `postgres://…` or `postgresql://…` (may carry a password).
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::DuckDb(path) => write!(f, "duckdb://{}", path.display()),
            DatabaseUrl::Postgres(_) => f.write_str("postgres://<redacted>"),
        }
    }
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<DatabaseUrl> {
        if let Some(path) = url.strip_prefix("duckdb://") {
            if path.is_empty() {
                bail!(
                    "DA_DATABASE_URL: duckdb:// needs a file path, e.g. duckdb:///srv/da/da.duckdb"
                );
            }
            return Ok(DatabaseUrl::DuckDb(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        bail!("DA_DATABASE_URL must look like duckdb://PATH or postgres://USER:PASS@HOST/DB")
    }
}

/// The same settings as read from a TOML file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_pool_size: Option<usize>,
    database_ca_file: Option<PathBuf>,
    jwt_secret: Option<String>,
    public_url: Option<String>,
    admin_email: Option<String>,
    admin_password: Option<String>,
    bootstrap_token: Option<String>,
    trusted_proxy_hops: Option<usize>,
    session_hours: Option<i64>,
    pat_max_days: Option<i64>,
    cli_access_seconds: Option<i64>,
    cli_refresh_days: Option<i64>,
    leak_report_secret: Option<String>,
    datasets_dir: Option<PathBuf>,
    dataset_max_mb: Option<u64>,
    query_timeout_seconds: Option<u64>,
    query_memory_mb: Option<u64>,
    query_concurrency: Option<usize>,
    query_threads: Option<u32>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    rate_limit_login: Option<u32>,
    rate_limit_reset: Option<u32>,
    rate_limit_bootstrap: Option<u32>,
    cli_dist_dir: Option<PathBuf>,
    site_dir: Option<PathBuf>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_name: Option<String>,
    oidc_scopes: Option<String>,
    oidc_groups_claim: Option<String>,
    oidc_allowed_domains: Option<String>,
    oidc_auto_create: Option<String>,
    oidc_default_role: Option<String>,
    log: Option<String>,
    log_format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    /// PostgreSQL: connections per replica, at most.
    pub database_pool_size: usize,
    /// PostgreSQL: the CAs to trust for TLS instead of the public web roots.
    pub database_ca_file: Option<PathBuf>,
    /// `None`: generate once into the data dir.
    pub jwt_secret: Option<String>,
    pub public_url: Option<String>,
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    pub bootstrap_token: Option<String>,
    pub trusted_proxy_hops: usize,
    pub session_hours: i64,
    pub pat_max_days: Option<i64>,
    pub cli_access_seconds: i64,
    pub cli_refresh_days: i64,
    pub leak_report_secret: Option<String>,
    pub data: DataConfig,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub rate_limits: da_domain::RateLimitConfig,
    pub cli_dist_dir: PathBuf,
    pub site_dir: PathBuf,
    /// Single sign-on, when configured.
    pub oidc: Option<da_domain::oidc::OidcSettings>,
    pub log: String,
    pub log_format: LogFormat,
}

/// Datasets and queries (`API.md` §12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataConfig {
    pub datasets_dir: PathBuf,
    pub dataset_max_bytes: u64,
    pub query_timeout_seconds: u64,
    pub query_memory_mb: u64,
    pub query_concurrency: usize,
    pub query_threads: u32,
}

fn redact<T>(value: &Option<T>) -> Option<&'static str> {
    value.as_ref().map(|_| "<redacted>")
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("jwt_secret", &redact(&self.jwt_secret))
            .field("public_url", &self.public_url)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &redact(&self.admin_password))
            .field("bootstrap_token", &redact(&self.bootstrap_token))
            .field("trusted_proxy_hops", &self.trusted_proxy_hops)
            .field("session_hours", &self.session_hours)
            .field("cli_access_seconds", &self.cli_access_seconds)
            .field("cli_refresh_days", &self.cli_refresh_days)
            .field(
                "leak_report_secret",
                &self.leak_report_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("pat_max_days", &self.pat_max_days)
            .field("data", &self.data)
            .field("smtp_url", &redact(&self.smtp_url))
            .field("smtp_from", &self.smtp_from)
            .field("rate_limits", &self.rate_limits)
            .field("cli_dist_dir", &self.cli_dist_dir)
            .field("site_dir", &self.site_dir)
            .field("oidc", &self.oidc)
            .field("log", &self.log)
            .field("log_format", &self.log_format)
            .finish()
    }
}

impl Config {
    pub fn load(args: Args) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                toml::from_str::<FileSettings>(&text)
                    .with_context(|| format!("invalid config file {}", path.display()))?
            }
            None => FileSettings::default(),
        };
        Config::merge(args, file)
    }

    fn merge(args: Args, file: FileSettings) -> anyhow::Result<Config> {
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database = match args.database_url.or(file.database_url) {
            None => DatabaseUrl::DuckDb(data_dir.join("da.duckdb")),
            Some(url) => DatabaseUrl::parse(&url)?,
        };
        let database_pool_size = args
            .database_pool_size
            .or(file.database_pool_size)
            .unwrap_or(16);
        if !(1..=1000).contains(&database_pool_size) {
            bail!("DA_DATABASE_POOL_SIZE must be between 1 and 1000");
        }
        let database_ca_file = args.database_ca_file.or(file.database_ca_file);
        let session_hours = args.session_hours.or(file.session_hours).unwrap_or(24);
        if !(1..=24 * 366).contains(&session_hours) {
            bail!("DA_SESSION_HOURS must be between 1 and 8784");
        }
        let pat_max_days = args.pat_max_days.or(file.pat_max_days);
        if let Some(days) = pat_max_days
            && !(1..=3650).contains(&days)
        {
            bail!("DA_PAT_MAX_DAYS must be between 1 and 3650");
        }
        let cli_access_seconds = args
            .cli_access_seconds
            .or(file.cli_access_seconds)
            .unwrap_or(900);
        if !(1..=86_400).contains(&cli_access_seconds) {
            bail!("DA_CLI_ACCESS_SECONDS must be between 1 and 86400");
        }
        let cli_refresh_days = args
            .cli_refresh_days
            .or(file.cli_refresh_days)
            .unwrap_or(30);
        if !(1..=366).contains(&cli_refresh_days) {
            bail!("DA_CLI_REFRESH_DAYS must be between 1 and 366");
        }
        let leak_report_secret = non_empty(args.leak_report_secret.or(file.leak_report_secret));
        if leak_report_secret.as_ref().is_some_and(|s| s.len() < 16) {
            bail!("DA_LEAK_REPORT_SECRET must be at least 16 characters");
        }
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let data = DataConfig {
            datasets_dir: args
                .datasets_dir
                .or(file.datasets_dir)
                .unwrap_or_else(|| data_dir.join("datasets")),
            dataset_max_bytes: match args.dataset_max_mb.or(file.dataset_max_mb).unwrap_or(1024) {
                mb @ 1..=1_048_576 => mb * 1024 * 1024,
                _ => bail!("DA_DATASET_MAX_MB must be between 1 and 1048576"),
            },
            query_timeout_seconds: match args
                .query_timeout_seconds
                .or(file.query_timeout_seconds)
                .unwrap_or(30)
            {
                seconds @ 1..=86_400 => seconds,
                _ => bail!("DA_QUERY_TIMEOUT_SECONDS must be between 1 and 86400"),
            },
            query_memory_mb: match args
                .query_memory_mb
                .or(file.query_memory_mb)
                .unwrap_or(1024)
            {
                mb @ 16..=1_048_576 => mb,
                _ => bail!("DA_QUERY_MEMORY_MB must be between 16 and 1048576"),
            },
            query_concurrency: match args.query_concurrency.or(file.query_concurrency) {
                None => cores,
                Some(n @ 1..=256) => n,
                Some(_) => bail!("DA_QUERY_CONCURRENCY must be between 1 and 256"),
            },
            query_threads: 0,
        };
        let data = DataConfig {
            query_threads: match args.query_threads.or(file.query_threads) {
                None => (cores / data.query_concurrency).max(1) as u32,
                Some(n @ 1..=256) => n,
                Some(_) => bail!("DA_QUERY_THREADS must be between 1 and 256"),
            },
            ..data
        };
        let jwt_secret = args.jwt_secret.or(file.jwt_secret);
        if let Some(secret) = &jwt_secret
            && secret.len() < 32
        {
            bail!("DA_JWT_SECRET must be at least 32 bytes long");
        }
        let public_url = args
            .public_url
            .or(file.public_url)
            .map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("DA_PUBLIC_URL must start with http:// or https://");
        }
        let admin_email = args.admin_email.or(file.admin_email);
        let admin_password = args.admin_password.or(file.admin_password);
        if admin_email.is_some() != admin_password.is_some() {
            bail!("DA_ADMIN_EMAIL and DA_ADMIN_PASSWORD must be set together");
        }
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("human") | Some("text") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("DA_LOG_FORMAT must be `human` or `json`, not `{other}`"),
        };
        let smtp_url = args.smtp_url.or(file.smtp_url).filter(|u| !u.is_empty());
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("DA_SMTP_URL must look like smtp://[user:pass@]host[:port] or smtps://…");
        }
        let smtp_from = args.smtp_from.or(file.smtp_from);
        if smtp_url.is_some() && smtp_from.is_none() {
            bail!("DA_SMTP_FROM (the sender address) is required with DA_SMTP_URL");
        }
        if smtp_url.is_some() && public_url.is_none() {
            bail!(
                "DA_SMTP_URL is set but DA_PUBLIC_URL is not: mailed links must point at this \
                 server's public address, never at whatever Host a request named; set \
                 DA_PUBLIC_URL (e.g. https://da.example.com)"
            );
        }
        let defaults = da_domain::RateLimitConfig::default();
        let rate_limits = da_domain::RateLimitConfig {
            login_per_minute: args
                .rate_limit_login
                .or(file.rate_limit_login)
                .unwrap_or(defaults.login_per_minute),
            reset_per_minute: args
                .rate_limit_reset
                .or(file.rate_limit_reset)
                .unwrap_or(defaults.reset_per_minute),
            bootstrap_per_minute: args
                .rate_limit_bootstrap
                .or(file.rate_limit_bootstrap)
                .unwrap_or(defaults.bootstrap_per_minute),
        };
        let oidc = oidc_settings(
            OidcInput {
                issuer: args.oidc_issuer.or(file.oidc_issuer),
                client_id: args.oidc_client_id.or(file.oidc_client_id),
                client_secret: args.oidc_client_secret.or(file.oidc_client_secret),
                name: args.oidc_name.or(file.oidc_name),
                scopes: args.oidc_scopes.or(file.oidc_scopes),
                groups_claim: args.oidc_groups_claim.or(file.oidc_groups_claim),
                allowed_domains: args.oidc_allowed_domains.or(file.oidc_allowed_domains),
                auto_create: args.oidc_auto_create.or(file.oidc_auto_create),
                default_role: args.oidc_default_role.or(file.oidc_default_role),
            },
            public_url.as_deref(),
        )?;
        let exe_dir = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let site_dir = args
            .site_dir
            .or(file.site_dir)
            .unwrap_or_else(|| default_site_dir(&exe_dir));
        Ok(Config {
            bind: args
                .bind
                .or(file.bind)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8000))),
            data_dir,
            database,
            database_pool_size,
            database_ca_file,
            jwt_secret,
            public_url,
            admin_email,
            admin_password,
            bootstrap_token: args
                .bootstrap_token
                .or(file.bootstrap_token)
                .filter(|t| !t.is_empty()),
            trusted_proxy_hops: args
                .trusted_proxy_hops
                .or(file.trusted_proxy_hops)
                .unwrap_or(0),
            session_hours,
            pat_max_days,
            cli_access_seconds,
            cli_refresh_days,
            leak_report_secret,
            data,
            smtp_url,
            smtp_from,
            rate_limits,
            cli_dist_dir: args.cli_dist_dir.or(file.cli_dist_dir).unwrap_or(exe_dir),
            site_dir,
            oidc,
            log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format,
        })
    }
}

/// The `DA_OIDC_*` values as given, before they are checked.
struct OidcInput {
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    name: Option<String>,
    scopes: Option<String>,
    groups_claim: Option<String>,
    allowed_domains: Option<String>,
    auto_create: Option<String>,
    default_role: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// Single sign-on's settings: none unless the issuer, client id and secret are all set, and
/// then only with `DA_PUBLIC_URL`, which the redirect URI is made of.
fn oidc_settings(
    input: OidcInput,
    public_url: Option<&str>,
) -> anyhow::Result<Option<da_domain::oidc::OidcSettings>> {
    let (issuer, client_id, client_secret) = match (
        non_empty(input.issuer),
        non_empty(input.client_id),
        input.client_secret.filter(|s| !s.is_empty()),
    ) {
        (None, None, None) => return Ok(None),
        (Some(issuer), Some(id), Some(secret)) => (issuer, id, secret),
        _ => bail!(
            "single sign-on needs DA_OIDC_ISSUER, DA_OIDC_CLIENT_ID and DA_OIDC_CLIENT_SECRET \
             together; some of them are missing"
        ),
    };
    let Some(public_url) = public_url else {
        bail!(
            "single sign-on (DA_OIDC_ISSUER) needs DA_PUBLIC_URL: the identity provider sends \
             people back to {{DA_PUBLIC_URL}}{}, which must be registered with it",
            da_types::sso::OIDC_CALLBACK_PATH
        );
    };
    url::Url::parse(&issuer).with_context(|| format!("DA_OIDC_ISSUER {issuer:?} is not a URL"))?;
    if !da_domain::oidc::issuer_allowed(&issuer) {
        bail!(
            "DA_OIDC_ISSUER must be an https URL (plain http only for a provider on this machine)"
        );
    }
    let mut scopes: Vec<String> = non_empty(input.scopes)
        .unwrap_or_else(|| "openid email profile".into())
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        scopes.insert(0, "openid".into());
    }
    let allowed_domains = non_empty(input.allowed_domains)
        .map(|list| {
            list.split(',')
                .map(|d| d.trim().trim_start_matches('@').to_lowercase())
                .filter(|d| !d.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let auto_create = match non_empty(input.auto_create)
        .as_deref()
        .map(str::to_lowercase)
    {
        None => true,
        Some(v) if ["true", "1", "yes", "on"].contains(&v.as_str()) => true,
        Some(v) if ["false", "0", "no", "off"].contains(&v.as_str()) => false,
        Some(v) => bail!("DA_OIDC_AUTO_CREATE must be true or false, not {v:?}"),
    };
    let default_role = match non_empty(input.default_role) {
        None => da_types::Role::Viewer,
        Some(role) => role
            .parse()
            .map_err(|_| anyhow::anyhow!("DA_OIDC_DEFAULT_ROLE: Unknown role: {role}"))?,
    };
    Ok(Some(da_domain::oidc::OidcSettings {
        issuer,
        client_id,
        client_secret: da_types::Secret::new(client_secret),
        name: non_empty(input.name).unwrap_or_else(|| "single sign-on".into()),
        scopes: scopes.join(" "),
        groups_claim: non_empty(input.groups_claim).unwrap_or_else(|| "groups".into()),
        allowed_domains,
        auto_create,
        default_role,
        redirect_uri: format!("{public_url}{}", da_types::sso::OIDC_CALLBACK_PATH),
    }))
}

/// `site/` beside the binary (an installed layout), else the build's `target/site` (the binary
/// sits in `target/<profile>/`), else `./target/site`.
fn default_site_dir(exe_dir: &Path) -> PathBuf {
    let beside = exe_dir.join("site");
    if beside.is_dir() {
        return beside;
    }
    let in_target = exe_dir.join("..").join("site");
    if in_target.is_dir() {
        return in_target;
    }
    PathBuf::from("target/site")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(args: Args, file: &str) -> anyhow::Result<Config> {
        Config::merge(args, toml::from_str(file).unwrap())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = merge(Args::default(), "").unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(
            config.database,
            DatabaseUrl::DuckDb(PathBuf::from("./data/da.duckdb"))
        );
        assert_eq!(config.session_hours, 24);
        assert_eq!(config.trusted_proxy_hops, 0);
        assert_eq!(config.log_format, LogFormat::Human);
    }

    #[test]
    fn flags_and_env_win_over_the_file() {
        let args = Args {
            session_hours: Some(8),
            ..Args::default()
        };
        let config = merge(args, "session_hours = 12\ndata_dir = \"/srv/da\"").unwrap();
        assert_eq!(config.session_hours, 8);
        assert_eq!(
            config.database,
            DatabaseUrl::DuckDb(PathBuf::from("/srv/da/da.duckdb"))
        );
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let short = Args {
            jwt_secret: Some("short".into()),
            ..Args::default()
        };
        assert!(
            merge(short, "")
                .unwrap_err()
                .to_string()
                .contains("at least 32 bytes")
        );
        let unknown = Args {
            database_url: Some("mysql://x".into()),
            ..Args::default()
        };
        assert!(
            merge(unknown, "")
                .unwrap_err()
                .to_string()
                .contains("duckdb://PATH or postgres://")
        );
        let mail_without_url = Args {
            smtp_url: Some("smtp://mail:25".into()),
            smtp_from: Some("da@x".into()),
            ..Args::default()
        };
        assert!(
            merge(mail_without_url, "")
                .unwrap_err()
                .to_string()
                .contains("DA_PUBLIC_URL")
        );
        assert!(Config::merge(Args::default(), FileSettings::default()).is_ok());
        assert!(toml::from_str::<FileSettings>("bogus = 1").is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let args = Args {
            jwt_secret: Some("s".repeat(40)),
            admin_email: Some("a@b.c".into()),
            admin_password: Some("hunter2hunter2".into()),
            ..Args::default()
        };
        let shown = format!("{:?}", merge(args, "").unwrap());
        assert!(
            !shown.contains("ssss") && !shown.contains("hunter2"),
            "{shown}"
        );
        let pg = Args {
            database_url: Some("postgres://da:pg-secret@db/da".into()),
            ..Args::default()
        };
        assert!(!format!("{:?}", merge(pg, "").unwrap()).contains("pg-secret"));
    }
}
