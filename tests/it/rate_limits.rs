//! Rate limits per client IP on the anonymous credential endpoints, and the per-account
//! back-off after repeated wrong passwords.

use crate::users::refused;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use serde_json::json;

async fn post_status(
    server: &TestServer,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    server.post(path).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn the_default_limits_answer_429_with_retry_after() {
    let server = TestServer::builder().production_rate_limits().start().await;
    let cases = [
        (
            "/auth/token",
            json!({"email": "x@example.com", "password": "wrong-pass"}),
            10,
        ),
        ("/auth/password/reset", json!({"email": "x@example.com"}), 5),
        (
            "/auth/bootstrap",
            json!({"email": "x@example.com", "password": "password-123"}),
            3,
        ),
    ];
    for (path, body, allowed) in cases {
        for attempt in 0..allowed {
            // A different account each time, so the per-account back-off stays out of it.
            let mut body = body.clone();
            body["email"] = json!(format!("x{attempt}@example.com"));
            let response = post_status(&server, path, body).await;
            assert_ne!(response.status(), 429, "{path} attempt {attempt}");
        }
        let response = post_status(&server, path, body.clone()).await;
        assert_eq!(response.status(), 429, "{path}");
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{path}: {retry_after}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], "rate_limited");
        assert_eq!(
            error["detail"],
            match retry_after {
                1 => "Too many attempts. Try again in 1 second.".to_owned(),
                n => format!("Too many attempts. Try again in {n} seconds."),
            }
        );
    }
    // The login alias shares the login allowance.
    let alias = post_status(
        &server,
        "/auth/password/login",
        json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}),
    )
    .await;
    assert_eq!(alias.status(), 429);
}

#[tokio::test]
async fn a_lowered_limit_applies_and_other_clients_are_not_affected() {
    let server = TestServer::builder()
        .env("DA_RATE_LIMIT_LOGIN", "2")
        .env("DA_TRUSTED_PROXY_HOPS", "1")
        .start()
        .await;
    let login = |ip: &'static str| {
        server
            .post("/auth/token")
            .header("x-forwarded-for", ip)
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
    };
    assert_eq!(login("10.0.0.1").await.unwrap().status(), 200);
    assert_eq!(login("10.0.0.1").await.unwrap().status(), 200);
    assert_eq!(login("10.0.0.1").await.unwrap().status(), 429);
    assert_eq!(login("10.0.0.2").await.unwrap().status(), 200);
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_for_the_right_one() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let client = server.client();
    for _ in 0..5 {
        assert_eq!(
            refused(client.login(ADMIN_EMAIL, "wrong-password").await),
            (401, "Invalid email or password".into())
        );
    }
    let locked = server
        .post("/auth/token")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429);
    assert_eq!(locked.headers()["retry-after"], "15");
    // The same account's existing session keeps working, and other accounts are unaffected.
    admin.me().await.unwrap();
    admin
        .create_user(&da_types::CreateUserRequest {
            email: "other@example.com".into(),
            password: Some("password-123".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    server.signed_in("other@example.com", "password-123").await;
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let server = TestServer::start().await;
    let client = server.client();
    for _ in 0..4 {
        let _ = client.login(ADMIN_EMAIL, "wrong-password").await;
    }
    client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
    for _ in 0..4 {
        let _ = client.login(ADMIN_EMAIL, "wrong-password").await;
    }
    client.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn the_login_form_reports_a_rate_limit_in_words() {
    let server = TestServer::builder()
        .env("DA_RATE_LIMIT_LOGIN", "1")
        .start()
        .await;
    let form = [("email", ADMIN_EMAIL), ("password", "wrong-password")];
    let first = server.post("/login").form(&form).send().await.unwrap();
    assert!(
        first.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("error=credentials")
    );
    let second = server.post("/login").form(&form).send().await.unwrap();
    assert!(
        second.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("error=rate_limited"),
        "{:?}",
        second.headers()["location"]
    );
}
