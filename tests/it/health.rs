use da_integration_tests::TestServer;
use serde_json::{Value, json};

#[tokio::test]
async fn health_is_public() {
    let server = TestServer::start().await;
    let response = server.get("/api/health").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[tokio::test]
async fn health_stays_public_with_a_garbage_credential() {
    let server = TestServer::start().await;
    let response = server
        .get("/api/health")
        .header("authorization", "Bearer nonsense")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn detailed_health_needs_a_user_and_reports_storage() {
    let server = TestServer::start().await;
    let anonymous = server.get("/api/health/detailed").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap(),
        json!({"detail": "Missing or invalid Authorization header", "code": "unauthenticated"})
    );

    let detailed = server
        .client()
        .with_token(server.admin_token().await)
        .health_detailed()
        .await
        .unwrap();
    assert_eq!(detailed.status, "ok");
    // Each backend numbers its own migrations.
    let (storage, schema) = match da_integration_tests::backend() {
        da_integration_tests::Backend::DuckDb => ("duckdb", 10),
        da_integration_tests::Backend::Postgres => ("postgres", 3),
    };
    assert_eq!(detailed.storage, storage);
    assert_eq!(detailed.schema_version, schema);
    assert_eq!(detailed.users.count, 1);
    assert_eq!(detailed.version, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let server = TestServer::start().await;
    let response = server.get("/api/health").send().await.unwrap();
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id");
    assert_eq!(id.to_str().unwrap().len(), 36);
}
