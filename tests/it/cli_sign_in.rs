//! CLI sign-in (`API.md` §13): CLI sessions with rotating refresh tokens and reuse detection,
//! the device authorization grant, and the real `da` refreshing and signing in with a code.

use crate::users::refused;
use da_client::{Client, ClientError};
use da_integration_tests::cli::Da;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use da_types::{AuditParams, ErrorCode, LoginClient, TokenResponse};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

async fn cli_login(server: &TestServer, email: &str, password: &str) -> TokenResponse {
    server
        .client()
        .login_as(email, password, LoginClient::Cli)
        .await
        .expect("CLI login")
}

/// How many audit rows with exactly this action there are.
pub async fn audited(server: &TestServer, action: &str) -> usize {
    let params = AuditParams {
        action_prefix: Some(action.into()),
        limit: Some("200".into()),
        ..Default::default()
    };
    let page = server.admin().await.audit(&params).await.expect("audit");
    page.rows.iter().filter(|r| r.action == action).count()
}

/// The 400 of a device poll: its `code`.
fn device_answer(result: Result<TokenResponse, ClientError>) -> (ErrorCode, String) {
    match result.expect_err("no token yet") {
        ClientError::Api { status: 400, error } => (error.code, error.detail),
        other => panic!("expected a 400, got {other:?}"),
    }
}

#[tokio::test]
async fn a_cli_login_gets_a_short_access_token_and_a_refresh_token_that_rotates() {
    let server = TestServer::builder()
        .env("DA_CLI_ACCESS_SECONDS", "120")
        .start()
        .await;
    let before = chrono::Utc::now();
    let first = cli_login(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = first.refresh_token.clone().expect("a refresh token");
    assert!(
        refresh.starts_with("da_rt_") && refresh.len() == 49,
        "{refresh}"
    );
    let lifetime = (first.expires_at - before).num_seconds();
    assert!(
        (118..=121).contains(&lifetime),
        "access token lives {lifetime} s"
    );
    // A browser login has no refresh token and a session-long access token.
    let browser = server
        .client()
        .login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .unwrap();
    assert!(browser.refresh_token.is_none());
    assert!((browser.expires_at - before).num_hours() >= 23);
    let raw = server
        .post("/auth/token")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(raw.get("refresh_token").is_none(), "{raw}");

    // The CLI session is a session like any other.
    let cli = server.client().with_token(&first.access_token);
    let sessions = cli.my_sessions().await.unwrap();
    let current = sessions.iter().find(|s| s.current == Some(true)).unwrap();
    assert!((current.expires_at - before).num_days() >= 29);

    let second = server.client().refresh(&refresh).await.unwrap();
    let next = second.refresh_token.clone().unwrap();
    assert_ne!(next, refresh);
    assert_eq!(second.email, ADMIN_EMAIL);
    server
        .client()
        .with_token(&second.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(audited(&server, "session.refresh").await, 1);

    // The spent one again: the session and every token of it are revoked.
    assert_eq!(
        refused(server.client().refresh(&refresh).await),
        (401, "Refresh token reused; the session was revoked".into())
    );
    assert_eq!(
        refused(server.client().with_token(&second.access_token).me().await),
        (401, "Session revoked".into())
    );
    assert_eq!(
        refused(server.client().refresh(&next).await),
        (401, "Invalid or expired refresh token".into())
    );
    assert_eq!(audited(&server, "session.refresh_reuse").await, 1);
}

#[tokio::test]
async fn malformed_and_unknown_refresh_tokens_are_refused_plainly() {
    let server = TestServer::start().await;
    for token in [
        "",
        "garbage",
        "da_rt_short",
        &format!("da_rt_{}", "a".repeat(43)),
    ] {
        assert_eq!(
            refused(server.client().refresh(token).await),
            (401, "Invalid or expired refresh token".into()),
            "{token}"
        );
    }
    let missing = server
        .post("/auth/refresh")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 422);
    let wrong_client = server
        .post("/auth/token")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "client": "toaster"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_client.status(), 422);
}

/// The CLI session of `login` has ended: its refresh token is refused.
async fn assert_session_over(server: &TestServer, login: &TokenResponse) {
    let refresh = login.refresh_token.as_deref().expect("a CLI session");
    assert_eq!(
        refused(server.client().refresh(refresh).await),
        (401, "Invalid or expired refresh token".into())
    );
}

#[tokio::test]
async fn cli_sessions_end_with_logout_deactivation_and_password_changes() {
    let server = TestServer::start().await;
    let ann = server
        .create_user("ann@example.com", "analyst", "ann-password-1")
        .await;

    let by_logout = cli_login(&server, "ann@example.com", "ann-password-1").await;
    server
        .client()
        .with_token(&by_logout.access_token)
        .logout()
        .await
        .unwrap();
    assert_session_over(&server, &by_logout).await;

    let by_password = cli_login(&server, "ann@example.com", "ann-password-1").await;
    let browser = server.signed_in("ann@example.com", "ann-password-1").await;
    browser
        .change_password("ann-password-1", "ann-password-2")
        .await
        .unwrap();
    assert_session_over(&server, &by_password).await;

    let by_deactivation = cli_login(&server, "ann@example.com", "ann-password-2").await;
    server.admin().await.deactivate_user(ann.id).await.unwrap();
    assert_session_over(&server, &by_deactivation).await;
}

#[tokio::test]
async fn the_device_grant_answers_every_rfc_8628_state() {
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "http://da.test")
        .start()
        .await;
    let client = server.client();
    let grant = client.device_code(Some("ci runner 7")).await.unwrap();
    assert_eq!(grant.verification_uri, "http://da.test/device");
    assert_eq!(
        grant.verification_uri_complete,
        format!("http://da.test/device?code={}", grant.user_code)
    );
    assert_eq!((grant.expires_in, grant.interval), (600, 5));
    let code = grant.user_code.as_bytes();
    assert_eq!(code.len(), 9);
    assert_eq!(code[4], b'-');
    assert!(
        code.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || b"BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{}",
        grant.user_code
    );

    let (answer, detail) = device_answer(client.device_token(&grant.device_code).await);
    assert_eq!(answer, ErrorCode::AuthorizationPending, "{detail}");
    let raw = server
        .post("/auth/device/token")
        .json(&json!({"device_code": grant.device_code}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "slow_down", "polled again at once: {body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));

    // Deciding takes a session: a PAT is refused, a wrong code is 400.
    let admin = server.admin().await;
    let pat = admin
        .create_token(&da_types::CreateTokenRequest {
            name: "robot".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .token;
    assert_eq!(
        refused(
            server
                .client()
                .with_token(pat)
                .decide_device(&grant.user_code, true)
                .await
        ),
        (
            403,
            "This endpoint requires an interactive session, not a PAT".into()
        )
    );
    assert_eq!(
        refused(client.decide_device(&grant.user_code, true).await).0,
        401
    );
    for wrong in ["BCDF-GHJK", "nonsense", ""] {
        assert_eq!(
            refused(admin.decide_device(wrong, true).await),
            (400, "Invalid or expired code".into()),
            "{wrong}"
        );
    }
    // Typed in lower case without the dash: the same code.
    let typed = grant.user_code.replace('-', "").to_lowercase();
    admin.decide_device(&typed, true).await.unwrap();
    assert_eq!(
        refused(admin.decide_device(&grant.user_code, false).await),
        (400, "Invalid or expired code".into()),
        "decided already"
    );
    let token = client.device_token(&grant.device_code).await.unwrap();
    assert_eq!(token.email, ADMIN_EMAIL);
    assert!(token.refresh_token.is_some());
    let me = server
        .client()
        .with_token(&token.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(me.credential.kind, da_types::CredentialKind::Session);
    // Single use.
    assert_eq!(
        device_answer(client.device_token(&grant.device_code).await).0,
        ErrorCode::ExpiredToken
    );

    let denied = client.device_code(None).await.unwrap();
    admin.decide_device(&denied.user_code, false).await.unwrap();
    assert_eq!(
        device_answer(client.device_token(&denied.device_code).await).0,
        ErrorCode::AccessDenied
    );
    for unknown in [format!("da_dc_{}", "x".repeat(43)), "nonsense".into()] {
        assert_eq!(
            device_answer(client.device_token(&unknown).await).0,
            ErrorCode::ExpiredToken
        );
    }
    assert_eq!(audited(&server, "device.approve").await, 1);
    assert_eq!(audited(&server, "device.deny").await, 1);
    let sessions = audited(&server, "auth.login").await;
    assert!(sessions >= 2, "the device session's login is audited");
}

#[tokio::test]
async fn device_codes_are_rate_limited_per_client() {
    let server = TestServer::builder().production_rate_limits().start().await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = server
            .post("/auth/device/code")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 200);
}

#[tokio::test]
async fn da_login_with_a_device_code_is_approved_in_the_browser_and_stored() {
    let server = TestServer::start().await;
    let da = Da::new();
    let mut login = da.spawn(&["login", "--device", "--server", &server.base_url]);
    let stderr = login.stderr.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    let mut shown = String::new();
    let user_code = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("da shows the code within 30 s")
            .unwrap()
            .unwrap_or_else(|| panic!("da ended before showing a code:\n{shown}"));
        shown.push_str(&line);
        shown.push('\n');
        if let Some(code) = line.split("code=").nth(1) {
            break code.trim().to_owned();
        }
    };
    assert!(shown.contains("/device?code="), "{shown}");
    server
        .admin()
        .await
        .decide_device(&user_code, true)
        .await
        .unwrap();
    let status = tokio::time::timeout(std::time::Duration::from_secs(30), login.wait())
        .await
        .expect("da finishes after the approval")
        .unwrap();
    assert!(status.success(), "{shown}");
    let stored = da.credentials();
    let credential = stored[&server.base_url].as_table().unwrap();
    assert!(
        credential["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("da_rt_")
    );
    let whoami = da.run(&["auth", "whoami", "--json"]).await;
    whoami.ok();
    assert_eq!(whoami.json()["email"], ADMIN_EMAIL);
}

/// Marks the stored access token expired, as the clock would.
fn expire_stored_access(da: &Da, server: &str) {
    let path = da.config_dir().join("credentials.toml");
    let mut table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
    let credential = table[server].as_table_mut().unwrap();
    credential.insert(
        "expires_at".into(),
        toml::Value::String("2020-01-01T00:00:00Z".into()),
    );
    std::fs::write(&path, table.to_string()).unwrap();
}

#[tokio::test]
async fn four_da_commands_at_once_after_expiry_refresh_once_and_keep_the_session() {
    let server = TestServer::start().await;
    let da = Da::new();
    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    assert!(
        da.credentials()[&server.base_url]
            .get("refresh_token")
            .is_some(),
        "`da login` opens a CLI session"
    );
    for round in 1..=3 {
        expire_stored_access(&da, &server.base_url);
        let runs = (0..4).map(|_| da.run(&["auth", "whoami", "--json"]));
        for out in futures_util::future::join_all(runs).await {
            out.ok();
            assert_eq!(out.json()["email"], ADMIN_EMAIL);
        }
        assert_eq!(audited(&server, "session.refresh").await, round);
    }
    assert_eq!(audited(&server, "session.refresh_reuse").await, 0);
    da.run(&["auth", "whoami"]).await.ok();
}

#[tokio::test]
async fn da_logout_ends_a_cli_session_even_after_its_access_token_expired() {
    let server = TestServer::start().await;
    let da = Da::new();
    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    let stored = da.credentials()[&server.base_url].clone();
    let refresh = stored["refresh_token"].as_str().unwrap().to_owned();
    expire_stored_access(&da, &server.base_url);
    da.run(&["logout"]).await.ok();
    assert!(da.credentials().get(&server.base_url).is_none());
    // The session is over: no refresh token of it works (the one `da logout` rotated to
    // included; the original one is spent, presenting it is a reuse of a dead family).
    let client: Client = server.client();
    assert_eq!(refused(client.refresh(&refresh).await).0, 401);
    let admin = server.admin().await;
    let live = admin.my_sessions().await.unwrap();
    assert_eq!(
        live.len(),
        1,
        "only the admin's own browser session: {live:?}"
    );
}

#[tokio::test]
async fn an_approval_dies_with_the_session_that_gave_it() {
    let server = TestServer::start().await;
    let ann = server
        .create_user("ann@example.com", "analyst", "ann-password-1")
        .await;
    let browser = server.signed_in("ann@example.com", "ann-password-1").await;
    let client = server.client();
    let grant = client.device_code(None).await.unwrap();
    browser.decide_device(&grant.user_code, true).await.unwrap();
    // "Sign out everywhere" lands between the click and the CLI's next poll.
    server
        .admin()
        .await
        .revoke_user_sessions(ann.id)
        .await
        .unwrap();
    assert_eq!(
        device_answer(client.device_token(&grant.device_code).await).0,
        ErrorCode::AccessDenied
    );
    let sessions = server
        .signed_in("ann@example.com", "ann-password-1")
        .await
        .my_sessions()
        .await
        .unwrap();
    assert_eq!(sessions.len(), 1, "no CLI session was opened: {sessions:?}");
}
