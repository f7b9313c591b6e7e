//! Tests' throw-away PostgreSQL: one cluster per test process, started on first use
//! (`initdb` with trust auth, a free loopback port, `fsync=off`), and a fresh database for
//! each test that asks.
//!
//! The server runs under a small shell that holds a pipe from this process: when the test
//! process exits, however it exits, the pipe closes and the shell stops the server and removes
//! its data directory. So no cluster outlives the tests that made it.
//!
//! Run as root (CI), the cluster runs as the `postgres` user, since PostgreSQL refuses root.
//! The binaries come from `DA_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`, else `PATH`.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub struct Cluster {
    port: u16,
    /// Held open for the life of the process; closing it stops the server.
    _lifeline: Mutex<ChildStdin>,
    _shell: Mutex<Child>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The process's cluster, started on first use. Panics, saying why, when PostgreSQL cannot be
/// started here (its binaries missing, say): a test that needs it must not pass without it.
pub fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(|| start_with(None)) {
        Ok(cluster) => cluster,
        Err(why) => panic!("cannot start a test PostgreSQL: {why}"),
    }
}

impl Cluster {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for database `name` on this cluster, as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable",
            self.port
        )
    }

    /// Creates an empty database of its own for one test; its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("da_test_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) =
            tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
                .await
                .expect("connect to the test cluster");
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a test database");
        drop(client);
        let _ = driver.await;
        self.url(&name)
    }
}

fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DA_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn program(dir: &Option<PathBuf>, name: &str) -> String {
    match dir {
        Some(dir) => dir.join(name).to_string_lossy().into_owned(),
        None => name.to_owned(),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `command` as the `postgres` user when this process is root.
fn as_server_user(root: bool, script: &str) -> Command {
    let mut command = if root {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("runuser");
        let mut c = Command::new(runuser);
        c.args(["-u", "postgres", "--", "sh", "-c", script]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    };
    command.stdout(Stdio::null());
    command
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// A cluster of the caller's own (the shared one is [`cluster`]); dropping it stops the server.
pub fn start() -> Result<Cluster, String> {
    start_with(None)
}

/// A cluster of its own that speaks TLS with this certificate and key (PEM files), besides
/// plain connections.
pub fn start_with_tls(cert: &Path, key: &Path) -> Result<Cluster, String> {
    start_with(Some((cert, key)))
}

fn start_with(tls: Option<(&Path, &Path)>) -> Result<Cluster, String> {
    let bin = bin_dir();
    let root = is_root();
    // A directory the server user owns, outside any directory only root may enter.
    let dir: PathBuf = tempfile::Builder::new()
        .prefix("da-pg-")
        .tempdir_in(std::env::temp_dir())
        .map_err(|e| format!("temp dir: {e}"))?
        .keep();
    if root {
        let status = Command::new("chown")
            .args(["postgres:postgres", &dir.to_string_lossy()])
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !status.success() {
            return Err("chown of the data directory failed".into());
        }
    }
    let data = dir.join("data");
    let initdb = format!(
        "{} -D {} -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >{} 2>&1",
        quote(&program(&bin, "initdb")),
        quote(&data.to_string_lossy()),
        quote(&dir.join("initdb.log").to_string_lossy()),
    );
    let status = as_server_user(root, &initdb)
        .status()
        .map_err(|e| format!("initdb: {e}"))?;
    if !status.success() {
        let log = std::fs::read_to_string(dir.join("initdb.log")).unwrap_or_default();
        return Err(format!("initdb failed: {log}"));
    }
    let port = free_port()?;
    let mut ssl = String::new();
    if let Some((cert, key)) = tls {
        // The server reads them as its own user, the key private to it.
        for (from, name) in [(cert, "server.crt"), (key, "server.key")] {
            std::fs::copy(from, data.join(name)).map_err(|e| format!("copy {name}: {e}"))?;
        }
        let owner = format!(
            "chmod 600 {key} && chown postgres:postgres {cert} {key}",
            key = quote(&data.join("server.key").to_string_lossy()),
            cert = quote(&data.join("server.crt").to_string_lossy()),
        );
        let mut fix = Command::new("sh");
        fix.args(["-c", &owner]);
        if !root {
            fix = Command::new("chmod");
            fix.args(["600", &data.join("server.key").to_string_lossy()]);
        }
        fix.status().map_err(|e| format!("key permissions: {e}"))?;
        ssl = " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
    }
    let postgres = format!(
        "{} -D {} -p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
         -c shared_buffers=64MB{ssl}",
        quote(&program(&bin, "postgres")),
        quote(&data.to_string_lossy()),
        quote(&dir.to_string_lossy()),
    );
    let log = quote(&dir.join("server.log").to_string_lossy());
    let dir_quoted = quote(&dir.to_string_lossy());
    // The lifeline: `read` returns when this process's end of the pipe closes.
    let script = format!(
        "{postgres} >{log} 2>&1 & pg=$!; read _line; kill -INT $pg; wait $pg; rm -rf {dir_quoted}"
    );
    let mut shell = as_server_user(root, &script)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("start postgres: {e}"))?;
    let lifeline = shell.stdin.take().ok_or("no pipe to the server's shell")?;
    wait_ready(&bin, port, &dir)?;
    Ok(Cluster {
        port,
        _lifeline: Mutex::new(lifeline),
        _shell: Mutex::new(shell),
    })
}

fn wait_ready(bin: &Option<PathBuf>, port: u16, dir: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(program(bin, "pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ready {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("postgres did not become ready in 30 s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
