//! Which server and which credential a command uses, and why.
//!
//! Server: `--server` > `DA_SERVER` > `config.toml`. Credential: `--token` > `DA_TOKEN` > the
//! one stored for that server in `credentials.toml`.

use crate::error::CliError;
use crate::settings::{
    Config, CredentialKind, Credentials, CredentialsLock, Paths, StoredCredential, normalize_server,
};
use da_client::{Client, ClientError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSource {
    Flag,
    Env,
    Config,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Flag,
    Env,
    Stored(CredentialKind),
}

impl CredentialSource {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialSource::Flag => "--token",
            CredentialSource::Env => "DA_TOKEN",
            CredentialSource::Stored(_) => "saved in credentials.toml",
        }
    }
}

/// A command's view of the world: flags, environment and the config directory.
pub struct Context {
    pub paths: Paths,
    pub json: bool,
    server_flag: Option<String>,
    token_flag: Option<String>,
}

/// An API client for the resolved server, with the credential it carries.
pub struct Session {
    pub server: String,
    pub client: Client,
    pub source: CredentialSource,
    /// When the stored credential expires, as saved at login (for a stored one only).
    pub stored_expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Context {
    pub fn new(
        server_flag: Option<String>,
        token_flag: Option<String>,
        json: bool,
    ) -> Result<Context, CliError> {
        Ok(Context {
            paths: Paths::from_env()?,
            json,
            server_flag,
            token_flag,
        })
    }

    pub fn token_flag(&self) -> Option<&str> {
        self.token_flag.as_deref()
    }

    /// The server URL and where it came from.
    pub fn server(&self) -> Result<(String, ServerSource), CliError> {
        if let Some(url) = &self.server_flag {
            return Ok((normalize_server(url)?, ServerSource::Flag));
        }
        if let Some(url) = env_value("DA_SERVER") {
            return Ok((normalize_server(&url)?, ServerSource::Env));
        }
        if let Some(url) = Config::load(&self.paths)?.server() {
            return Ok((normalize_server(url)?, ServerSource::Config));
        }
        Err(CliError::usage("no server configured")
            .with_hint("run `da login --server URL`, `da config set server URL`, or set DA_SERVER"))
    }

    /// An unauthenticated client for `server`.
    pub fn anonymous(&self, server: &str) -> Result<Client, CliError> {
        Client::new(server).map_err(|e| CliError::from_client(e, server))
    }

    /// A client carrying the caller's credential; "not logged in" when there is none. A stored
    /// CLI session whose access token has expired (or is about to) is refreshed first.
    pub async fn session(&self) -> Result<Session, CliError> {
        let (server, _) = self.server()?;
        let client = self.anonymous(&server)?;
        let stored = Credentials::load(&self.paths)?.get(&server).cloned();
        let (token, source, stored_expires_at) = if let Some(token) = &self.token_flag {
            (token.clone(), CredentialSource::Flag, None)
        } else if let Some(token) = env_value("DA_TOKEN") {
            if stored.is_some() {
                eprintln!(
                    "da: note: DA_TOKEN is set; it is used instead of the credential stored for {server}"
                );
            }
            (token, CredentialSource::Env, None)
        } else if let Some(stored) = stored {
            let stored = match needs_refresh(&stored) {
                true => self.refreshed(&server, &client).await?,
                false => stored,
            };
            (
                stored.token,
                CredentialSource::Stored(stored.kind),
                stored.expires_at,
            )
        } else {
            return Err(CliError::auth(format!("not logged in to {server}"))
                .with_hint("run `da login`, or set DA_TOKEN to a personal access token"));
        };
        Ok(Session {
            client: client.with_token(token.trim()),
            server,
            source,
            stored_expires_at,
        })
    }
}

/// Refresh this long before the access token runs out, so a command never starts with one
/// that dies on its way.
const REFRESH_MARGIN_SECONDS: i64 = 30;

pub fn needs_refresh(stored: &StoredCredential) -> bool {
    stored.refresh_token.is_some()
        && stored.expires_at.is_none_or(|at| {
            at <= chrono::Utc::now() + chrono::Duration::seconds(REFRESH_MARGIN_SECONDS)
        })
}

impl Context {
    /// The stored session for `server` with a fresh access token. Refreshes are serialised
    /// across `da` processes by a lock: whoever waited finds the credential another process
    /// just refreshed and uses it, so a refresh token is never presented twice.
    pub async fn refreshed(
        &self,
        server: &str,
        client: &Client,
    ) -> Result<StoredCredential, CliError> {
        let _lock = CredentialsLock::acquire(&self.paths)?;
        let mut credentials = Credentials::load(&self.paths)?;
        let Some(stored) = credentials.get(server).cloned() else {
            return Err(
                CliError::auth(format!("not logged in to {server}")).with_hint("run `da login`")
            );
        };
        let Some(refresh_token) = stored
            .refresh_token
            .clone()
            .filter(|_| needs_refresh(&stored))
        else {
            return Ok(stored);
        };
        let token = match client.refresh(&refresh_token).await {
            Ok(token) => token,
            Err(ClientError::Api { status: 401, error }) => {
                // Dead for good: forget it, so the next command says "not logged in".
                credentials.remove(server);
                credentials.save(&self.paths)?;
                return Err(CliError::auth(format!(
                    "your session on {server} has ended: {}",
                    error.detail
                ))
                .with_hint("run `da login` to sign in again"));
            }
            Err(err) => return Err(CliError::from_client(err, server)),
        };
        let fresh = StoredCredential {
            kind: CredentialKind::Session,
            token: token.access_token,
            email: token.email,
            expires_at: Some(token.expires_at),
            refresh_token: token.refresh_token,
        };
        credentials.set(server, fresh.clone());
        credentials.save(&self.paths)?;
        Ok(fresh)
    }
}

impl Session {
    /// A refusal with the next step for this kind of credential.
    pub fn explain(&self, err: ClientError) -> CliError {
        let error = CliError::from_client(err, &self.server);
        if error.status != Some(401) {
            return error;
        }
        let hint = match self.source {
            CredentialSource::Stored(CredentialKind::Session) => {
                "your stored session no longer works: run `da login` to sign in again".to_owned()
            }
            CredentialSource::Stored(CredentialKind::Pat) => format!(
                "the stored token no longer works: create a new one ({}/tokens) and run `da auth import-token`, or run `da login`",
                self.server
            ),
            source => format!(
                "the token from {} no longer works: create a new one ({}/tokens or `da auth token create`) and update it",
                source.describe(),
                self.server
            ),
        };
        error.with_hint(hint)
    }
}

/// An environment variable, when set and not blank.
pub fn env_value(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}
