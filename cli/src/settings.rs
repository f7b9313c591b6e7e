//! What `da` keeps on disk: `config.toml` (the default server, plus any keys a newer `da` or the
//! user added, which are kept as they are) and `credentials.toml` (one credential per server
//! URL). Both live in `${DA_CONFIG_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/da}` and are written
//! atomically (temp file + rename) with mode 0600.

use crate::error::CliError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const CONFIG_FILE: &str = "config.toml";
const CREDENTIALS_FILE: &str = "credentials.toml";
const CREDENTIALS_LOCK: &str = "credentials.lock";

/// The config directory.
#[derive(Debug, Clone)]
pub struct Paths {
    pub dir: PathBuf,
}

impl Paths {
    pub fn from_env() -> Result<Paths, CliError> {
        let non_empty = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty());
        let dir = if let Some(dir) = non_empty("DA_CONFIG_DIR") {
            PathBuf::from(dir)
        } else if let Some(xdg) = non_empty("XDG_CONFIG_HOME") {
            PathBuf::from(xdg).join("da")
        } else if let Some(home) = non_empty("HOME") {
            PathBuf::from(home).join(".config").join("da")
        } else {
            return Err(CliError::usage(
                "cannot find a config directory: set DA_CONFIG_DIR or HOME",
            ));
        };
        Ok(Paths { dir })
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    pub fn credentials_file(&self) -> PathBuf {
        self.dir.join(CREDENTIALS_FILE)
    }

    /// Held while a process refreshes a session, so that `da` commands running at once spend
    /// a refresh token once (the credentials file itself is replaced, not edited, so it cannot
    /// carry the lock).
    pub fn credentials_lock(&self) -> PathBuf {
        self.dir.join(CREDENTIALS_LOCK)
    }
}

/// `config.toml`, as a table so that keys this version does not know survive a rewrite.
pub struct Config {
    table: toml::Table,
}

impl Config {
    pub fn load(paths: &Paths) -> Result<Config, CliError> {
        let table = match read_optional(&paths.config_file())? {
            Some(text) => text
                .parse::<toml::Table>()
                .map_err(|e| bad_file(&paths.config_file(), e))?,
            None => toml::Table::new(),
        };
        Ok(Config { table })
    }

    pub fn server(&self) -> Option<&str> {
        self.table.get("server").and_then(toml::Value::as_str)
    }

    pub fn set_server(&mut self, url: &str) {
        self.table
            .insert("server".into(), toml::Value::String(url.to_owned()));
    }

    pub fn save(&self, paths: &Paths) -> Result<(), CliError> {
        write_private(&paths.config_file(), &self.table.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Session,
    Pat,
}

impl CredentialKind {
    pub fn from_api(kind: da_types::CredentialKind) -> CredentialKind {
        match kind {
            da_types::CredentialKind::Session => CredentialKind::Session,
            da_types::CredentialKind::Pat => CredentialKind::Pat,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Pat => "personal access token",
        }
    }
}

/// One server's credential in `credentials.toml`.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredCredential {
    pub kind: CredentialKind,
    pub token: String,
    pub email: String,
    /// When `token` expires (for a CLI session, its short access token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// A CLI session's refresh token: spent for the next access token when `token` expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("kind", &self.kind)
            .field("token", &"<redacted>")
            .field("email", &self.email)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// `credentials.toml`: server URL → credential.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Credentials {
    #[serde(flatten)]
    by_server: BTreeMap<String, StoredCredential>,
}

impl Credentials {
    pub fn load(paths: &Paths) -> Result<Credentials, CliError> {
        match read_optional(&paths.credentials_file())? {
            Some(text) => toml::from_str(&text).map_err(|e| bad_file(&paths.credentials_file(), e)),
            None => Ok(Credentials::default()),
        }
    }

    pub fn get(&self, server: &str) -> Option<&StoredCredential> {
        self.by_server.get(server)
    }

    pub fn set(&mut self, server: &str, credential: StoredCredential) {
        self.by_server.insert(server.to_owned(), credential);
    }

    pub fn remove(&mut self, server: &str) -> Option<StoredCredential> {
        self.by_server.remove(server)
    }

    pub fn save(&self, paths: &Paths) -> Result<(), CliError> {
        let text = toml::to_string(self)
            .map_err(|e| CliError::failure(format!("cannot encode the credentials: {e}")))?;
        write_private(&paths.credentials_file(), &text)
    }
}

/// A server URL as given by a person: `http(s)://…`, without a trailing slash.
pub fn normalize_server(url: &str) -> Result<String, CliError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => Err(CliError::usage(format!(
            "invalid server URL {url:?}: expected http://host[:port] or https://host[:port]"
        ))),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(CliError::failure(format!(
            "cannot read {}: {err}",
            path.display()
        ))),
    }
}

fn bad_file(path: &Path, err: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("{} is not valid TOML: {err}", path.display()))
}

/// Writes `text` to `path` as a new 0600 file that replaces the old one in a single rename, so
/// a crash leaves either the old or the new file, never half of one.
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail = |what: &str, err: std::io::Error| {
        CliError::failure(format!("cannot {what} {}: {err}", path.display()))
    };
    create_private_dir(dir).map_err(|e| fail("create the directory of", e))?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(|e| fail("write", e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| fail("write", e))?;
    file.persist(path).map_err(|e| fail("replace", e.error))?;
    Ok(())
}

/// An exclusive lock on the credentials, released when dropped.
pub struct CredentialsLock {
    _file: std::fs::File,
}

impl CredentialsLock {
    /// Waits until no other `da` process holds it.
    pub fn acquire(paths: &Paths) -> Result<CredentialsLock, CliError> {
        let path = paths.credentials_lock();
        let fail = |err: std::io::Error| {
            CliError::failure(format!("cannot lock {}: {err}", path.display()))
        };
        create_private_dir(&paths.dir).map_err(fail)?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(fail)?;
        file.lock().map_err(fail)?;
        Ok(CredentialsLock { _file: file })
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            dir: dir.path().join("nested").join("da"),
        };
        (dir, paths)
    }

    #[test]
    fn config_keeps_unknown_keys() {
        let (_dir, paths) = paths();
        std::fs::create_dir_all(&paths.dir).unwrap();
        std::fs::write(
            paths.config_file(),
            "color = \"never\"\nserver = \"http://old\"\n[aliases]\nw = \"auth whoami\"\n",
        )
        .unwrap();
        let mut config = Config::load(&paths).unwrap();
        assert_eq!(config.server(), Some("http://old"));
        config.set_server("https://new.example");
        config.save(&paths).unwrap();
        let text = std::fs::read_to_string(paths.config_file()).unwrap();
        let table: toml::Table = text.parse().unwrap();
        assert_eq!(table["server"].as_str(), Some("https://new.example"));
        assert_eq!(table["color"].as_str(), Some("never"));
        assert_eq!(table["aliases"]["w"].as_str(), Some("auth whoami"));
    }

    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, paths) = paths();
        let mut credentials = Credentials::default();
        credentials.set(
            "http://h",
            StoredCredential {
                kind: CredentialKind::Session,
                token: "secret".into(),
                email: "a@b.c".into(),
                expires_at: None,
                refresh_token: Some("da_rt_secret".into()),
            },
        );
        credentials.save(&paths).unwrap();
        assert!(!format!("{credentials:?}").contains("da_rt_secret"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&paths.credentials_file()), 0o600);
        assert_eq!(mode(&paths.dir), 0o700);
        let lock = CredentialsLock::acquire(&paths).unwrap();
        assert_eq!(mode(&paths.credentials_lock()), 0o600);
        drop(lock);
        let loaded = Credentials::load(&paths).unwrap();
        assert_eq!(loaded.get("http://h").unwrap().token, "secret");
        assert!(!format!("{loaded:?}").contains("secret"));
    }

    #[test]
    fn server_urls_are_normalized() {
        assert_eq!(normalize_server("http://h:8000/").unwrap(), "http://h:8000");
        assert!(normalize_server("h:8000").is_err());
        assert!(normalize_server("https://").is_err());
    }
}
