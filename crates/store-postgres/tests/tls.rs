//! `sslmode=require` connects over TLS (rustls) and checks the server's certificate against
//! `ca_file`: the right CA connects, another CA is refused.

use da_domain::Store;
use da_store_postgres::{PgOptions, PgStore};
use std::path::Path;
use std::process::Command;

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success(), "openssl {args:?}");
}

/// A CA named `name` in `dir` (`name.crt`, `name.key`).
fn ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

#[tokio::test]
async fn require_speaks_tls_and_checks_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ca(d, "ca");
    ca(d, "other-ca");
    std::fs::write(
        d.join("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            "server.crt",
        ],
    );
    let cluster = da_pg_testing::start_with_tls(&d.join("server.crt"), &d.join("server.key"))
        .expect("a cluster with TLS");
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=require",
        cluster.port()
    );
    let trusting = |ca: &str| PgOptions {
        ca_file: Some(d.join(ca)),
        ..PgOptions::default()
    };
    let store = PgStore::connect(&url, &trusting("ca.crt"))
        .await
        .expect("TLS with the right CA");
    assert_eq!(store.count_users().await.unwrap(), 0);
    let refused = PgStore::connect(&url, &trusting("other-ca.crt")).await;
    let err = refused
        .err()
        .expect("a certificate from another CA is refused");
    assert!(err.to_string().contains("cannot reach PostgreSQL"), "{err}");
}
