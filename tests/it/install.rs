//! `API.md` §8: the CLI served by the server, and `install.sh` run for real.

use da_integration_tests::cli::{Da, cli_binary};
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use sha2::{Digest, Sha256};
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn latest(server: &TestServer) -> serde_json::Value {
    let response = server.get("/cli/latest").send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_server_ships_the_cli_it_was_built_with() {
    let server = TestServer::start().await;
    let latest = latest(&server).await;
    let binary = std::fs::read(cli_binary()).unwrap();
    assert_eq!(latest["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(latest["filename"], "da");
    assert_eq!(latest["download_url_path"], "/cli/download");
    assert_eq!(latest["sha256"], sha256_hex(&binary));

    let response = server.get("/cli/download").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/octet-stream");
    assert_eq!(header("content-disposition"), "attachment; filename=\"da\"");
    assert_eq!(header("content-length"), binary.len().to_string());
    let body = response.bytes().await.unwrap();
    assert_eq!(sha256_hex(&body), latest["sha256"].as_str().unwrap());
}

#[tokio::test]
async fn without_a_binary_the_answers_say_so() {
    let empty = tempfile::tempdir().unwrap();
    let server = TestServer::builder()
        .env("DA_CLI_DIST_DIR", empty.path().to_str().unwrap())
        .start()
        .await;
    let latest = latest(&server).await;
    for field in ["version", "filename", "download_url_path", "sha256"] {
        assert!(latest[field].is_null(), "{field}: {latest}");
    }
    let response = server.get("/cli/download").send().await.unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["detail"], "CLI binary not found on this server");
}

#[tokio::test]
async fn install_sh_refuses_hosts_that_could_inject_shell() {
    let server = TestServer::start().await;
    for host in ["x$(touch /tmp/pwned)", "a;b", "a`id`", "a b", "'a'"] {
        let response = server
            .get("/cli/install.sh")
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{host}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["detail"], "Unexpected server URL format", "{host}");
    }
    // A newline cannot even be sent through an HTTP client library: write the bytes by hand.
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /cli/install.sh HTTP/1.1\r\nHost: a\nid\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("#!/bin/sh"), "{answer}");

    // A sane Host is baked in, quoted.
    let script = server
        .get("/cli/install.sh")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.starts_with("#!/bin/sh"));
    assert!(script.contains(&format!("server='{}'", server.base_url)));
}

#[tokio::test]
async fn install_sh_prefers_the_public_url() {
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "https://da.example.com/")
        .start()
        .await;
    // With a public URL, a foreign Host is refused before anything is rendered…
    let foreign = server
        .get("/cli/install.sh")
        .header("host", "x$(id)")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 400);
    // …and the script served to a loopback request names the public URL, not the Host.
    let response = server.get("/cli/install.sh").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let script = response.text().await.unwrap();
    assert!(
        script.contains("server='https://da.example.com'"),
        "{script}"
    );
    assert!(!script.contains("$(id)"));
}

/// `curl -fsSL …/cli/install.sh | sh`, as the README says, into a temporary HOME.
async fn run_install(server: &TestServer, da: &Da, install_dir: &std::path::Path) -> String {
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "curl -fsSL {}/cli/install.sh | sh",
            server.base_url
        ))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", da.home())
        .env("DA_INSTALL_DIR", install_dir)
        .env("DA_CONFIG_DIR", da.config_dir())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run sh");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "install.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn install_sh_installs_a_working_da() {
    let server = TestServer::start().await;
    let home = Da::new();
    let install_dir = home.home().join("bin");
    std::fs::create_dir_all(home.config_dir()).unwrap();
    std::fs::write(
        home.config_dir().join("config.toml"),
        "editor = \"vim\"\nserver = \"http://old.example\"\n\n[aliases]\nw = \"auth whoami\"\n",
    )
    .unwrap();

    let printed = run_install(&server, &home, &install_dir).await;
    assert!(printed.contains("Installed da"), "{printed}");
    assert!(printed.contains("da login"), "next steps: {printed}");
    assert!(printed.contains("is not on your PATH"), "{printed}");

    let installed = install_dir.join("da");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(cli_binary()).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
        let config_mode = std::fs::metadata(home.config_dir().join("config.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(config_mode & 0o777, 0o600);
    }
    let config = home.config();
    assert_eq!(config["server"].as_str(), Some(server.base_url.as_str()));
    assert_eq!(
        config["editor"].as_str(),
        Some("vim"),
        "other keys are kept"
    );
    assert_eq!(config["aliases"]["w"].as_str(), Some("auth whoami"));
    let leftovers: Vec<_> = std::fs::read_dir(&install_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["da"], "no temporary files left behind");

    // The installed da knows the server already: log in and list tokens.
    let da = Da::new().with_binary(installed);
    let mut da = da;
    da.env("DA_CONFIG_DIR", home.config_dir().to_str().unwrap());
    da.run_with_stdin(
        &["login", "--email", ADMIN_EMAIL, "--password-stdin"],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await
    .ok();
    da.run(&["auth", "token", "create", "--name", "installed", "--raw"])
        .await
        .ok();
    let list = da.run(&["auth", "token", "list"]).await;
    list.ok();
    assert!(list.stdout.contains("installed"), "{list:?}");

    // Running it again (an upgrade) replaces the binary and keeps the config.
    run_install(&server, &home, &install_dir).await;
    assert_eq!(home.config()["editor"].as_str(), Some("vim"));
}

#[tokio::test]
async fn install_sh_writes_a_new_config_when_there_is_none() {
    let server = TestServer::start().await;
    let home = Da::new();
    let install_dir = home.home().join("bin");
    run_install(&server, &home, &install_dir).await;
    let text = std::fs::read_to_string(home.config_dir().join("config.toml")).unwrap();
    assert_eq!(text, format!("server = \"{}\"\n", server.base_url));
}
