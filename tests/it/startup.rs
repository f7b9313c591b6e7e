use da_integration_tests::TestServer;

#[tokio::test]
async fn the_jwt_secret_is_generated_once_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let path = server.data_dir.path().join("jwt_secret");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let secret = std::fs::read_to_string(&path).unwrap();
    assert!(secret.len() >= 32);

    let data_dir = server.stop().await;
    let server = TestServer::builder().data_dir(data_dir).start().await;
    assert_eq!(
        std::fs::read_to_string(server.data_dir.path().join("jwt_secret")).unwrap(),
        secret
    );
    server
        .client()
        .with_token(token)
        .me()
        .await
        .expect("tokens survive a restart");
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_fails_fast_with_a_clear_message() {
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
    assert!(dir.path().join("da.duckdb").exists());
}
