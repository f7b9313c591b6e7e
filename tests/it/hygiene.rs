//! The smaller hardening rules: no control characters in names, `no-store` on secrets, HSTS,
//! paging values that cannot reach the database as a 500, bounded device labels, audit rows that
//! name the credential, and empty `DA_*` variables meaning "unset".

use crate::users::refused;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use da_types::{AuditParams, CreateTokenRequest, CreateUserRequest, UpdateUserRequest};
use serde_json::json;

#[tokio::test]
async fn names_with_control_or_bidi_characters_are_refused() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for evil in [
        "Eve\u{1b}[2J",
        "Eve\u{7}",
        "Eve\u{202e}gnp.exe",
        "Eve\u{2066}x",
        "a\nb",
    ] {
        let create = CreateUserRequest {
            email: "eve@example.com".into(),
            name: Some(evil.into()),
            password: Some("password-123".into()),
            ..Default::default()
        };
        assert_eq!(
            refused(admin.create_user(&create).await),
            (400, "name must not contain control characters".into()),
            "{evil:?}"
        );
        let token = CreateTokenRequest {
            name: evil.into(),
            ..Default::default()
        };
        assert_eq!(
            refused(admin.create_token(&token).await),
            (400, "name must not contain control characters".into()),
            "{evil:?}"
        );
    }
    let me = admin.me().await.unwrap();
    let rename = UpdateUserRequest {
        name: Some("Admin\u{1b}]0;owned\u{7}".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(admin.update_user(me.id, &rename).await),
        (400, "name must not contain control characters".into())
    );
    // Ordinary Unicode is welcome.
    let fine = CreateUserRequest {
        email: "zoe@example.com".into(),
        name: Some("Zoë Ångström-李".into()),
        password: Some("password-123".into()),
        ..Default::default()
    };
    assert_eq!(
        admin.create_user(&fine).await.unwrap().user.name,
        "Zoë Ångström-李"
    );
}

#[tokio::test]
async fn an_invitee_cannot_smuggle_control_characters_through_the_setup_form() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "new@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, token) = crate::passwords::link_parts(&created.invite_url.unwrap());
    let setup = da_types::SetupRequest {
        email: "new@example.com".into(),
        token,
        password: "password-123".into(),
        name: Some("New\u{1b}[31m".into()),
    };
    assert_eq!(
        refused(server.client().complete_setup(&setup).await),
        (400, "name must not contain control characters".into())
    );
}

fn cache_control(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn responses_that_carry_secrets_are_not_stored() {
    let server = TestServer::start().await;
    let login = server
        .post("/auth/token")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&login), "no-store", "TokenResponse");
    let jwt = login.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let pat = server
        .post("/auth/tokens")
        .bearer_auth(&jwt)
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pat.status(), 201);
    assert_eq!(cache_control(&pat), "no-store", "a created PAT");
    let invite = server
        .post("/api/users")
        .bearer_auth(&jwt)
        .json(&json!({"email": "invitee@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&invite), "no-store", "an invite link");
    let id = invite.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reset = server
        .post(&format!("/api/users/{id}/reset-password"))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&reset), "no-store", "a reset link");
    let rpc = server
        .post("/rpc/login")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&rpc), "no-store", "the login server function");
}

#[tokio::test]
async fn an_https_public_url_brings_hsts_and_plain_http_does_not() {
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "https://da.example")
        .start()
        .await;
    for path in ["/api/health", "/login", "/api/me", "/pkg/none.js"] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
    }
    let plain = TestServer::start().await;
    let response = plain.get("/api/health").send().await.unwrap();
    assert!(!response.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn paging_values_out_of_range_are_400_never_500() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let huge = "9223372036854775808"; // i64::MAX + 1
    for path in [
        format!("/api/users?offset={huge}"),
        format!("/api/users?offset={}", u64::MAX),
        "/api/users?offset=-1".to_owned(),
        "/api/users?limit=0".to_owned(),
        "/api/users?limit=1001".to_owned(),
        format!("/api/users?limit={huge}"),
        "/api/users?limit=ten".to_owned(),
        format!("/auth/admin/tokens?offset={huge}"),
        "/auth/admin/tokens?limit=-5".to_owned(),
        "/api/admin/audit?limit=501".to_owned(),
        format!("/api/admin/audit?limit={huge}"),
    ] {
        let response = server.get(&path).bearer_auth(&jwt).send().await.unwrap();
        assert_eq!(response.status(), 400, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "invalid", "{path}");
    }
    // The largest offset the contract allows is simply past the end.
    let last = server
        .get("/api/users?offset=9223372036854775807")
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), 200);
    assert_eq!(
        last.json::<Vec<serde_json::Value>>().await.unwrap().len(),
        0
    );
}

#[tokio::test]
async fn device_labels_are_bounded_for_every_user_agent() {
    let server = TestServer::start().await;
    for agent in [
        format!("da-cli/{}", "9".repeat(2000)),
        format!("Mozilla/5.0 Firefox/{}", "1".repeat(2000)),
        "x".repeat(2000),
    ] {
        let response = server
            .post("/auth/token")
            .header("user-agent", &agent)
            .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let sessions = server.admin().await.my_sessions().await.unwrap();
    for session in sessions {
        assert!(
            session.device_label.chars().count() <= 120,
            "{} characters: {}",
            session.device_label.chars().count(),
            session.device_label
        );
    }
}

#[tokio::test]
async fn audit_rows_name_the_credential_that_acted() {
    let server = TestServer::start().await;
    let login = server
        .client()
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    let admin = server.client().with_token(login.access_token.clone());
    let me = admin.me().await.unwrap();
    let session_id = admin.my_sessions().await.unwrap()[0].id;
    let pat = admin
        .create_token(&CreateTokenRequest {
            name: "automation".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let robot = server.client().with_token(pat.token.clone());
    robot
        .create_user(&CreateUserRequest {
            email: "by-pat@example.com".into(),
            password: Some("password-123".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let rows = admin
        .audit(&AuditParams {
            action_prefix: Some("token.create".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    let by_session = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(
        by_session["credential"],
        json!({"kind": "session", "id": session_id.to_string()})
    );
    let rows = admin
        .audit(&AuditParams {
            action_prefix: Some("user.create".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    let by_pat = serde_json::to_value(&rows[0]).unwrap();
    assert_eq!(
        by_pat["credential"],
        json!({"kind": "pat", "id": pat.item.id.to_string()})
    );
    assert_eq!(by_pat["actor_id"], json!(me.id.to_string()));
    // Anonymous actions have none.
    let _ = server.client().login(ADMIN_EMAIL, "wrong-password").await;
    let failed = admin
        .audit(&AuditParams {
            action_prefix: Some("auth.login_failed".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert!(serde_json::to_value(&failed[0]).unwrap()["credential"].is_null());
}

#[tokio::test]
async fn empty_variables_count_as_unset() {
    let server = TestServer::builder()
        .without_admin()
        .env("DA_ADMIN_EMAIL", "")
        .env("DA_ADMIN_PASSWORD", "")
        .env("DA_PUBLIC_URL", "")
        .env("DA_SESSION_HOURS", "")
        .env("DA_SMTP_URL", "")
        .env("DA_PAT_MAX_DAYS", "")
        .env("DA_TRUSTED_PROXY_HOPS", "")
        .env("DA_BOOTSTRAP_TOKEN", "")
        .env("DA_JWT_SECRET", "")
        .try_start()
        .await
        .expect("empty variables are ignored");
    let login = server
        .client()
        .bootstrap(
            &da_types::BootstrapRequest {
                email: ADMIN_EMAIL.into(),
                name: None,
                password: ADMIN_PASSWORD.into(),
            },
            None,
        )
        .await
        .unwrap();
    // The default session lifetime applied.
    let hours = (login.expires_at - chrono::Utc::now()).num_hours();
    assert!((23..=24).contains(&hours), "{hours}");
}

/// A stand-in server that answers every request with one fixed JSON body, to show the CLI data
/// no real server would accept any more (names stored before the rule, or a hostile server).
async fn fixed_json_server(body: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-total-count: 1\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn the_cli_escapes_control_characters_it_prints() {
    let user = json!([{
        "id": "00000000-0000-4000-8000-000000000001",
        "email": "eve@example.com",
        "name": "Eve\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp",
        "role": "analyst",
        "effective_role": "analyst",
        "active": true,
        "has_password": true,
        "created_at": "2026-11-22T17:04:05Z",
        "updated_at": "2026-11-22T17:04:05Z",
        "last_login_at": null,
        "deactivated_at": null,
        "deactivated_by": null
    }]);
    let url = fixed_json_server(user.to_string()).await;
    let da = da_integration_tests::cli::Da::new();
    let output = da
        .run_with(
            &["admin", "users", "list", "--server", &url],
            None,
            &[("DA_TOKEN", "da_pat_fake")],
        )
        .await;
    output.ok();
    assert!(
        !output.stdout.contains(['\u{1b}', '\u{7}', '\u{202e}']),
        "raw control characters reached the terminal: {:?}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .contains(r"Eve\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp"),
        "{}",
        output.stdout
    );
    // --json stays exact: the same value, escaped as JSON allows.
    let json = da
        .run_with(
            &["--json", "admin", "users", "list", "--server", &url],
            None,
            &[("DA_TOKEN", "da_pat_fake")],
        )
        .await;
    assert_eq!(
        json.ok().json()[0]["name"],
        "Eve\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}gnp"
    );
    assert!(!json.stdout.contains(['\u{1b}', '\u{7}', '\u{202e}']));
}
