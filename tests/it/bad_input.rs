use da_integration_tests::{ADMIN_PASSWORD, TestServer};
use serde_json::{Value, json};

async fn post_raw(
    server: &TestServer,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = server.post(path).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

fn invalid(detail: &str) -> Value {
    json!({"detail": detail, "code": "invalid"})
}

#[tokio::test]
async fn malformed_json_missing_fields_and_wrong_types_are_422() {
    let server = TestServer::start().await;
    let json = Some("application/json");
    assert_eq!(
        post_raw(&server, "/auth/token", json, "{\"email\": ").await,
        (422, invalid("Malformed JSON body"))
    );
    assert_eq!(
        post_raw(&server, "/auth/token", json, r#"{"email": "a@b.c"}"#).await,
        (422, invalid("Field required: password"))
    );
    let (status, body) = post_raw(
        &server,
        "/auth/token",
        json,
        r#"{"email": "a@b.c", "password": 31337}"#,
    )
    .await;
    assert_eq!(
        (status, &body),
        (422, &invalid("Invalid value for field: password"))
    );
    assert!(!body.to_string().contains("31337"));
    assert_eq!(
        post_raw(&server, "/auth/token", json, "[]").await,
        (422, invalid("Request body must be a JSON object"))
    );
    assert_eq!(
        post_raw(&server, "/auth/token", json, "").await,
        (422, invalid("Malformed JSON body"))
    );
}

#[tokio::test]
async fn a_wrong_content_type_is_422() {
    let server = TestServer::start().await;
    let body = format!(r#"{{"email": "admin@example.com", "password": "{ADMIN_PASSWORD}"}}"#);
    let expected = (
        422,
        invalid("Request body must be JSON (Content-Type: application/json)"),
    );
    assert_eq!(
        post_raw(&server, "/auth/token", Some("text/plain"), body.clone()).await,
        expected
    );
    assert_eq!(post_raw(&server, "/auth/token", None, body).await, expected);
}

#[tokio::test]
async fn oversized_bodies_are_413_json() {
    let server = TestServer::start().await;
    let huge = format!(
        r#"{{"email": "a@b.c", "password": "{}"}}"#,
        "x".repeat(100 * 1024)
    );
    let (status, body) = post_raw(&server, "/auth/token", Some("application/json"), huge).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "invalid");
}

#[tokio::test]
async fn unknown_api_routes_and_wrong_methods_answer_in_json() {
    let server = TestServer::start().await;
    for path in ["/api/nope", "/auth/nope", "/api", "/cli/nope"] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": "Not found", "code": "not_found"})
        );
    }
    let response = server.get("/auth/token").send().await.unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        invalid("Method not allowed")
    );
}

#[tokio::test]
async fn passwords_never_reach_the_log() {
    let server = TestServer::start().await;
    let secret = "very-secret-password-xyz";
    for path in ["/auth/token", "/auth/bootstrap"] {
        let _ = server
            .post(path)
            .json(&json!({"email": "admin@example.com", "password": secret}))
            .send()
            .await
            .unwrap();
    }
    let _ = server
        .post("/login")
        .form(&[("email", "admin@example.com"), ("password", secret)])
        .send()
        .await
        .unwrap();
    let log = server.stop().await;
    let text: String = std::fs::read_dir(log.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".log"))
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .collect();
    assert!(!text.is_empty());
    assert!(!text.contains(secret));
    assert!(!text.contains(ADMIN_PASSWORD));
}
