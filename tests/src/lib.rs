//! The black-box test harness: starts the real `da-server` binary on a free loopback port with
//! a fresh data dir, and hands out HTTP clients for it. Every integration test builds on this.

pub mod cli;
pub mod oidc;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// This crate's folder (`tests/`) in the checkout being tested. Read when the tests run
/// (cargo sets `CARGO_MANIFEST_DIR` for them), not baked in when they were compiled: a build
/// cache shared by two checkouts (CI's and a developer's) keeps a test binary whose baked-in
/// path names the other checkout.
pub fn tests_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// A file under `tests/fixtures/`.
pub fn fixture_path(name: &str) -> PathBuf {
    tests_dir().join("fixtures").join(name)
}

/// The built `da-server`: `$DA_SERVER_BIN`, else next to this test binary's `deps/` folder.
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DA_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let path = profile_dir.join("da-server");
    assert!(
        path.exists(),
        "{} is missing: build it first (`cargo build` at the workspace root, or `./dev test`)",
        path.display()
    );
    path
}

/// Which store the test servers run on: `DA_TEST_BACKEND=postgres` puts each on a database of
/// its own on the test process's throw-away PostgreSQL cluster; DuckDB otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    DuckDb,
    Postgres,
}

pub fn backend() -> Backend {
    match std::env::var("DA_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("duckdb") | Err(_) => Backend::DuckDb,
        Ok(other) => panic!("DA_TEST_BACKEND={other}: expected duckdb or postgres"),
    }
}

/// Where a data dir remembers its PostgreSQL database, so a restarted server finds its data.
const DATABASE_URL_FILE: &str = "test-database-url";

pub struct TestServerBuilder {
    env: Vec<(String, String)>,
    seed_admin: bool,
    relaxed_rate_limits: bool,
    data_dir: Option<tempfile::TempDir>,
}

impl TestServerBuilder {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Start without the default admin (to test bootstrap).
    pub fn without_admin(mut self) -> Self {
        self.seed_admin = false;
        self
    }

    /// Keep the production rate limits (by default tests lift them, since one test may sign in
    /// more often than a person would in a minute).
    pub fn production_rate_limits(mut self) -> Self {
        self.relaxed_rate_limits = false;
        self
    }

    /// Another replica of `server`: the same PostgreSQL database (and so its users, sessions
    /// and secrets), its own process, port and data dir.
    pub fn replica_of(self, server: &TestServer) -> Self {
        let url = server
            .database_url
            .clone()
            .expect("replicas share a PostgreSQL database: run with DA_TEST_BACKEND=postgres");
        self.env("DA_DATABASE_URL", &url)
    }

    /// Reuse a data dir (e.g. from a stopped server).
    pub fn data_dir(mut self, dir: tempfile::TempDir) -> Self {
        self.data_dir = Some(dir);
        self
    }

    pub async fn start(self) -> TestServer {
        self.try_start().await.unwrap_or_else(|err| panic!("{err}"))
    }

    /// Starts the server; `Err` carries its stderr when it exits or never listens.
    pub async fn try_start(self) -> Result<TestServer, String> {
        let data_dir = match self.data_dir {
            Some(dir) => dir,
            None => tempfile::tempdir().expect("temp dir"),
        };
        let log_path = data_dir
            .path()
            .join(format!("server-{}.log", uuid::Uuid::new_v4()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let database_url = match self.env.iter().find(|(k, _)| k == "DA_DATABASE_URL") {
            Some((_, url)) => Some(url.clone()),
            None if backend() == Backend::Postgres => {
                let remembered = data_dir.path().join(DATABASE_URL_FILE);
                Some(match std::fs::read_to_string(&remembered) {
                    Ok(url) => url,
                    Err(_) => {
                        let url = da_pg_testing::cluster().fresh_database().await;
                        std::fs::write(&remembered, &url).expect("remember the database");
                        url
                    }
                })
            }
            None => None,
        };
        let mut command = Command::new(server_binary());
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DA_BIND", "127.0.0.1:0")
            .env("DA_DATA_DIR", data_dir.path())
            .env("DA_LOG", "info,tower_http=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        if self.seed_admin {
            command
                .env("DA_ADMIN_EMAIL", ADMIN_EMAIL)
                .env("DA_ADMIN_PASSWORD", ADMIN_PASSWORD);
        }
        if self.relaxed_rate_limits {
            for key in [
                "DA_RATE_LIMIT_LOGIN",
                "DA_RATE_LIMIT_RESET",
                "DA_RATE_LIMIT_BOOTSTRAP",
            ] {
                command.env(key, "0");
            }
        }
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if let Some(url) = &database_url {
            command.env("DA_DATABASE_URL", url);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start da-server: {e}"))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let listening = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("da-server listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        })
        .await;
        let base_url = match listening {
            Ok(Some(url)) => url,
            _ => {
                let _ = child.kill().await;
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("da-server did not start:\n{log}"));
            }
        };
        // Keep draining stdout so the server never writes into a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(TestServer {
            child,
            base_url,
            data_dir,
            log_path,
            database_url,
        })
    }
}

pub struct TestServer {
    child: Child,
    pub base_url: String,
    pub data_dir: tempfile::TempDir,
    pub log_path: PathBuf,
    /// The PostgreSQL database it runs on, if it does.
    pub database_url: Option<String>,
}

impl TestServer {
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            env: Vec::new(),
            seed_admin: true,
            relaxed_rate_limits: true,
            data_dir: None,
        }
    }

    /// A server with the default admin (`ADMIN_EMAIL` / `ADMIN_PASSWORD`).
    pub async fn start() -> TestServer {
        Self::builder().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The typed client, unauthenticated.
    pub fn client(&self) -> da_client::Client {
        da_client::Client::new(&self.base_url).expect("client")
    }

    /// A raw HTTP client that does not follow redirects (to see 302s) and keeps no cookies.
    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }

    /// `GET path` with the raw client.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http().get(self.url(path))
    }

    /// `GET path` as a browser signed in with the session cookie `jwt`.
    pub fn get_with_cookie(&self, path: &str, jwt: &str) -> reqwest::RequestBuilder {
        self.get(path)
            .header("cookie", format!("access_token={jwt}"))
    }

    /// `POST path` with the raw client.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http().post(self.url(path))
    }

    /// Logs in as the default admin and returns the session JWT.
    pub async fn admin_token(&self) -> String {
        self.client()
            .login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .expect("admin login")
            .access_token
    }

    /// The typed client signed in as the default admin.
    pub async fn admin(&self) -> da_client::Client {
        self.client().with_token(self.admin_token().await)
    }

    /// Creates a user with a password (as the default admin) and returns it.
    pub async fn create_user(&self, email: &str, role: &str, password: &str) -> da_types::User {
        let request = da_types::CreateUserRequest {
            email: email.to_owned(),
            role: Some(role.to_owned()),
            password: Some(password.to_owned()),
            ..Default::default()
        };
        self.admin()
            .await
            .create_user(&request)
            .await
            .expect("create user")
            .user
    }

    /// A typed client signed in as `email`.
    pub async fn signed_in(&self, email: &str, password: &str) -> da_client::Client {
        let token = self
            .client()
            .login(email, password)
            .await
            .expect("login")
            .access_token;
        self.client().with_token(token)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for a clean exit; returns the data dir for reuse.
    /// `kill -9`: no shutdown, no flush; what the server acknowledged must be in the database.
    pub async fn kill_hard(mut self) -> tempfile::TempDir {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        self.data_dir
    }

    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("server stops within 30 s")
            .expect("wait");
        assert!(
            status.success(),
            "da-server exited with {status}:\n{}",
            self.log()
        );
        self.data_dir
    }
}
