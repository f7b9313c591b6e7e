use da_integration_tests::TestServer;

#[tokio::test]
async fn the_jwt_secret_is_kept_in_the_database_and_survives_a_restart() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    assert!(
        !server.data_dir.path().join("jwt_secret").exists(),
        "the secret is the database's, not a file's"
    );
    let data_dir = server.stop().await;
    let server = TestServer::builder().data_dir(data_dir).start().await;
    server
        .client()
        .with_token(token)
        .me()
        .await
        .expect("tokens survive a restart");
}

#[tokio::test]
async fn a_jwt_secret_file_from_before_is_adopted() {
    // A data dir of an older version: its secret in a file, sessions signed with it.
    let dir = tempfile::tempdir().unwrap();
    let secret = "an-older-secret-of-at-least-32-bytes-0123456789";
    std::fs::write(dir.path().join("jwt_secret"), secret).unwrap();
    let server = TestServer::builder().data_dir(dir).start().await;
    let token = server.admin_token().await;
    // The server signs with the adopted secret: its token verifies with it.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.validate_aud = false;
    validation.required_spec_claims = Default::default();
    jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .expect("signed with the secret from the file");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_fails_fast_with_a_clear_message() {
    if da_integration_tests::backend() != da_integration_tests::Backend::DuckDb {
        eprintln!(
            "DuckDB allows one process per file; on PostgreSQL replicas share (see replicas.rs)"
        );
        return;
    }
    let first = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let second = TestServer::builder()
        .env("DA_DATA_DIR", first.data_dir.path().to_str().unwrap())
        .data_dir(dir)
        .try_start()
        .await;
    let err = second.err().expect("the second server must not start");
    assert!(err.contains("in use by another process"), "{err}");
    first
        .client()
        .health()
        .await
        .expect("the first server is unaffected");
}

#[tokio::test]
async fn bad_configuration_is_refused_at_start() {
    let err = TestServer::builder()
        .env("DA_JWT_SECRET", "too-short")
        .try_start()
        .await
        .err()
        .unwrap();
    assert!(err.contains("at least 32 bytes"), "{err}");
}

#[tokio::test]
async fn a_clean_shutdown_exits_zero() {
    let server = TestServer::start().await;
    server.admin_token().await;
    let dir = server.stop().await;
    assert_eq!(
        dir.path().join("da.duckdb").exists(),
        da_integration_tests::backend() == da_integration_tests::Backend::DuckDb,
        "the DuckDB file, and only on DuckDB"
    );
}
