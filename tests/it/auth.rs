use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use da_types::{BootstrapRequest, Role};
use serde_json::{Value, json};

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap())
}

/// `GET /api/me` with `token` must be a 401 with `detail`.
async fn assert_me_refused(server: &TestServer, token: &str, detail: &str) {
    let response = server
        .get("/api/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await, (401, unauthenticated(detail)));
}

fn unauthenticated(detail: &str) -> Value {
    json!({"detail": detail, "code": "unauthenticated"})
}

#[tokio::test]
async fn login_returns_a_token_response_and_the_token_works() {
    let server = TestServer::start().await;
    let response = server
        .post("/auth/token")
        .json(&json!({"email": "  Admin@Example.COM ", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["email"], ADMIN_EMAIL);
    assert_eq!(body["role"], "admin");
    let expires_at = body["expires_at"].as_str().unwrap();
    assert!(expires_at.ends_with('Z'), "{expires_at}");

    let me = server
        .client()
        .with_token(body["access_token"].as_str().unwrap())
        .me()
        .await
        .unwrap();
    assert_eq!(me.email, ADMIN_EMAIL);
    assert_eq!(me.role, Role::Admin);
    assert_eq!(me.name, "admin");
    assert!(me.active);
    assert_eq!(me.credential.kind, da_types::CredentialKind::Session);
    assert!(me.credential.expires_at.is_some());
}

#[tokio::test]
async fn the_password_login_alias_behaves_the_same() {
    let server = TestServer::start().await;
    let response = server
        .post("/auth/password/login")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let wrong = server
        .post("/auth/password/login")
        .json(&json!({"email": ADMIN_EMAIL, "password": "nope-nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(wrong).await,
        (401, unauthenticated("Invalid email or password"))
    );
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let server = TestServer::start().await;
    for (email, password) in [
        ("nobody@example.com", ADMIN_PASSWORD),
        (ADMIN_EMAIL, "wrong-password"),
    ] {
        let response = server
            .post("/auth/token")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(response).await,
            (401, unauthenticated("Invalid email or password"))
        );
    }
}

#[tokio::test]
async fn a_malformed_email_is_a_400() {
    let server = TestServer::start().await;
    let response = server
        .post("/auth/token")
        .json(&json!({"email": "not-an-email", "password": "whatever1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(response).await,
        (
            400,
            json!({"detail": "A valid email address is required", "code": "invalid"})
        )
    );
}

#[tokio::test]
async fn logout_revokes_the_session_at_once_and_clears_the_cookie() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let client = server.client().with_token(&token);
    client.me().await.unwrap();

    let response = server
        .post("/auth/logout")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("access_token=;") && cookie.contains("Max-Age=0"),
        "{cookie}"
    );

    let after = server
        .get("/api/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(after).await,
        (401, unauthenticated("Session revoked"))
    );
    let again = server
        .post("/auth/logout")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
}

#[tokio::test]
async fn logout_needs_a_credential() {
    let server = TestServer::start().await;
    let response = server.post("/auth/logout").send().await.unwrap();
    assert_eq!(
        error_of(response).await,
        (
            401,
            unauthenticated("Missing or invalid Authorization header")
        )
    );
}

#[tokio::test]
async fn me_refuses_each_bad_credential_with_its_reason() {
    let server = TestServer::start().await;
    let cases: [(&str, &str, &str); 6] = [
        (
            "authorization",
            "Basic YWRtaW46YWRtaW4=",
            "Missing or invalid Authorization header",
        ),
        (
            "authorization",
            "Bearer",
            "Missing or invalid Authorization header",
        ),
        (
            "authorization",
            "Bearer ",
            "Missing or invalid Authorization header",
        ),
        (
            "authorization",
            "Bearer garbage",
            "Invalid or expired token",
        ),
        (
            "authorization",
            "Bearer da_pat_0000000000000000000000000000000000000",
            "Invalid or expired token",
        ),
        ("cookie", "access_token=garbage", "Invalid or expired token"),
    ];
    for (header, value, detail) in cases {
        let response = server
            .get("/api/me")
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(response).await,
            (401, unauthenticated(detail)),
            "{header}: {value}"
        );
    }
    let none = server.get("/api/me").send().await.unwrap();
    assert_eq!(
        error_of(none).await,
        (
            401,
            unauthenticated("Missing or invalid Authorization header")
        )
    );
}

/// A JWT signed with another key, and one that is expired, built by hand (HS256).
fn forged_jwt(secret: &[u8], exp_offset_seconds: i64) -> String {
    use base64_url as b64;
    let now = chrono_now();
    let header = b64::encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = json!({
        "sub": uuid::Uuid::new_v4(), "email": "x@example.com", "typ": "session",
        "sid": uuid::Uuid::new_v4(), "jti": uuid::Uuid::new_v4(),
        "iat": now - 10, "exp": now + exp_offset_seconds,
    });
    let payload = b64::encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{payload}");
    let signature = b64::encode(&hmac_sha256(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize()
        .to_vec()
}

mod base64_url {
    pub fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

#[tokio::test]
async fn foreign_and_expired_jwts_are_refused() {
    let secret = "k".repeat(40);
    let server = TestServer::builder()
        .env("DA_JWT_SECRET", &secret)
        .start()
        .await;
    // Sanity: our hand-made JWT with the right key and a live session would need a session row,
    // so even a correctly signed token for an unknown user is refused as such.
    let right_key = forged_jwt(secret.as_bytes(), 3600);
    assert_me_refused(&server, &right_key, "User not found").await;

    for token in [
        forged_jwt(b"another-secret-another-secret-another", 3600),
        forged_jwt(secret.as_bytes(), -5),
    ] {
        assert_me_refused(&server, &token, "Invalid or expired token").await;
    }
}

#[tokio::test]
async fn bootstrap_creates_the_first_admin_once() {
    let server = TestServer::builder().without_admin().start().await;
    let request = BootstrapRequest {
        email: "First@Example.com".into(),
        name: Some("First Admin".into()),
        password: "first-password".into(),
    };
    let token = server.client().bootstrap(&request, None).await.unwrap();
    assert_eq!(token.role, Role::Admin);
    assert_eq!(token.email, "first@example.com");
    let me = server
        .client()
        .with_token(&token.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(me.name, "First Admin");

    let second = BootstrapRequest {
        email: "second@example.com".into(),
        name: None,
        password: "second-password".into(),
    };
    let refused = server.client().bootstrap(&second, None).await.unwrap_err();
    assert_eq!(refused.status(), Some(403));
    assert_eq!(
        refused.detail(),
        Some("Bootstrap is disabled: an administrator already exists")
    );
}

#[tokio::test]
async fn bootstrap_validates_its_input() {
    let server = TestServer::builder().without_admin().start().await;
    let cases = [
        (
            json!({"email": "nope", "password": "long-enough"}),
            "A valid email address is required",
        ),
        (
            json!({"email": "a@b.c", "password": "short"}),
            "Password must be at least 8 characters",
        ),
        (
            json!({"email": "a@b.c", "password": "x".repeat(257)}),
            "Password must be at most 256 characters",
        ),
    ];
    for (body, detail) in cases {
        let response = server
            .post("/auth/bootstrap")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(response).await,
            (400, json!({"detail": detail, "code": "invalid"}))
        );
    }
}

#[tokio::test]
async fn concurrent_bootstraps_make_exactly_one_admin() {
    let server = TestServer::builder().without_admin().start().await;
    let attempts = (0..6).map(|i| {
        let client = server.client();
        async move {
            let request = BootstrapRequest {
                email: format!("admin{i}@example.com"),
                name: None,
                password: "racing-password".into(),
            };
            client.bootstrap(&request, None).await
        }
    });
    let results = futures_join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    for failure in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(failure.status(), Some(403));
    }
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_bootstrap_token_unlocks_bootstrap_after_the_first_admin() {
    let server = TestServer::builder()
        .env("DA_BOOTSTRAP_TOKEN", "let-me-in-please")
        .start()
        .await;
    let request = BootstrapRequest {
        email: "rescue@example.com".into(),
        name: None,
        password: "rescue-password".into(),
    };
    let wrong = server
        .client()
        .bootstrap(&request, Some("let-me-in-pleasE"))
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(403));
    let token = server
        .client()
        .bootstrap(&request, Some("let-me-in-please"))
        .await
        .unwrap();
    assert_eq!(token.role, Role::Admin);
    let again = server
        .client()
        .bootstrap(&request, Some("let-me-in-please"))
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
    assert_eq!(again.detail(), Some("User with this email already exists"));
}

#[tokio::test]
async fn a_session_survives_a_restart() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    let data_dir = server.stop().await;
    let server = TestServer::builder().data_dir(data_dir).start().await;
    let me = server.client().with_token(&token).me().await.unwrap();
    assert_eq!(me.email, ADMIN_EMAIL);
}
