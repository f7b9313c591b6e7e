//! Personal access tokens: issuing rules, the resolution order, instant revocation, batched
//! "last used", the admin inventory.

use crate::users::refused;
use da_client::Client;
use da_integration_tests::{ADMIN_EMAIL, TestServer};
use da_types::{CreateTokenRequest, TokenListParams, UpdateUserRequest, UserListParams};
use serde_json::json;

fn named(name: &str) -> CreateTokenRequest {
    CreateTokenRequest {
        name: name.into(),
        ..Default::default()
    }
}

/// A fresh token of the signed-in `client`, and a client that uses it.
async fn pat(
    server: &TestServer,
    client: &Client,
    request: &CreateTokenRequest,
) -> (String, Client) {
    let created = client.create_token(request).await.expect("create token");
    let token = created.token.clone();
    (token.clone(), server.client().with_token(token))
}

#[tokio::test]
async fn a_token_is_shown_once_has_the_documented_shape_and_works() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin.create_token(&named("ci")).await.unwrap();
    let token = &created.token;
    assert_eq!(token.len(), 45);
    assert!(token.starts_with("da_pat_"));
    assert!(token[7..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created.item.prefix, token[..12]);
    assert_eq!(created.item.status.as_str(), "active");
    let days = (created.item.expires_at.unwrap() - created.item.created_at).num_days();
    assert_eq!(days, 90, "the default lifetime");

    let me = server
        .client()
        .with_token(token.clone())
        .me()
        .await
        .unwrap();
    assert_eq!(me.email, ADMIN_EMAIL);
    assert_eq!(me.credential.kind, da_types::CredentialKind::Pat);
    assert_eq!(me.credential.token_id, Some(created.item.id));
    assert_eq!(me.credential.expires_at, created.item.expires_at);

    // Listing and reading never show the secret again.
    let listed = serde_json::to_string(&admin.tokens().await.unwrap()).unwrap();
    assert!(!listed.contains(token.as_str()));
    let raw = server
        .get(&format!("/auth/tokens/{}", created.item.id))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(raw.headers().contains_key("x-token-expires-at"));
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(body.get("token").is_none());
    for field in [
        "id",
        "name",
        "prefix",
        "role",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "status",
    ] {
        assert!(body.get(field).is_some(), "{field}");
    }
}

#[tokio::test]
async fn creation_rules_and_their_exact_details() {
    let server = TestServer::start().await;
    let jwt = server.admin_token().await;
    let cases = [
        (json!({"name": "   "}), 400, "name is required"),
        (
            json!({"name": "x".repeat(101)}),
            400,
            "name must be at most 100 characters",
        ),
        (
            json!({"name": "t", "expires_in_days": 0}),
            400,
            "expires_in_days must be a positive integer",
        ),
        (
            json!({"name": "t", "expires_in_days": -3}),
            400,
            "expires_in_days must be a positive integer",
        ),
        (
            json!({"name": "t", "expires_in_days": 3651}),
            400,
            "expires_in_days must not exceed 3650 (10 years)",
        ),
        (
            json!({"name": "t", "expires_in_days": 10_000_000_000_i64}),
            400,
            "expires_in_days must not exceed 3650 (10 years)",
        ),
        (
            json!({"name": "t", "ttl_seconds": 0}),
            400,
            "ttl_seconds must be between 1 and 315360000",
        ),
        (
            json!({"name": "t", "role": "wizard"}),
            400,
            "Unknown role: wizard",
        ),
        (json!({"expires_in_days": 5}), 422, "Field required: name"),
    ];
    for (body, status, detail) in cases {
        let response = server
            .post("/auth/tokens")
            .bearer_auth(&jwt)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["detail"], detail, "{body}");
    }
    let never = server
        .post("/auth/tokens")
        .bearer_auth(&jwt)
        .json(&json!({"name": "forever", "expires_in_days": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(never.status(), 201);
    let body: serde_json::Value = never.json().await.unwrap();
    assert!(body["expires_at"].is_null());
    let ttl = server
        .post("/auth/tokens")
        .bearer_auth(&jwt)
        .json(&json!({"name": "short", "expires_in_days": 30, "ttl_seconds": 120}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = ttl.json().await.unwrap();
    let created =
        chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 120, "ttl_seconds wins");
}

#[tokio::test]
async fn an_admin_cap_on_lifetimes_refuses_longer_and_unlimited_tokens() {
    let server = TestServer::builder()
        .env("DA_PAT_MAX_DAYS", "30")
        .start()
        .await;
    let admin = server.admin().await;
    let unlimited = CreateTokenRequest {
        expires_in_days: Some(None),
        ..named("t")
    };
    assert_eq!(
        refused(admin.create_token(&unlimited).await),
        (400, "expires_in_days must not exceed 30".into())
    );
    let created = admin.create_token(&named("t")).await.unwrap();
    assert_eq!(
        (created.item.expires_at.unwrap() - created.item.created_at).num_days(),
        30
    );
}

#[tokio::test]
async fn only_interactive_sessions_create_tokens_and_roles_only_narrow() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (_, via_pat) = pat(&server, &admin, &named("ci")).await;
    assert_eq!(
        refused(via_pat.create_token(&named("nested")).await),
        (
            403,
            "This endpoint requires an interactive session, not a PAT".into()
        )
    );
    server
        .create_user("ana@example.com", "analyst", "password-123")
        .await;
    let analyst = server.signed_in("ana@example.com", "password-123").await;
    let too_high = CreateTokenRequest {
        role: Some("admin".into()),
        ..named("t")
    };
    assert_eq!(
        refused(analyst.create_token(&too_high).await),
        (400, "Token role cannot exceed your own role".into())
    );
    // An admin's viewer-scoped token is a viewer.
    let narrowed = CreateTokenRequest {
        role: Some("viewer".into()),
        ..named("read-only")
    };
    let (_, viewer_pat) = pat(&server, &admin, &narrowed).await;
    let me = viewer_pat.me().await.unwrap();
    assert_eq!(
        me.effective_role.as_str(),
        "viewer",
        "the token acts as a viewer"
    );
    assert_eq!(me.role.as_str(), "admin", "its owner is still an admin");
    assert_eq!(
        refused(viewer_pat.list_users(&UserListParams::default()).await),
        (403, "Admin access required".into())
    );
}

#[tokio::test]
async fn revocation_expiry_deactivation_demotion_and_deletion_apply_on_the_next_request() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("owner@example.com", "admin", "password-123")
        .await;
    let owner = server.signed_in("owner@example.com", "password-123").await;
    let (_, token_client) = pat(&server, &owner, &named("ci")).await;
    token_client
        .list_users(&UserListParams::default())
        .await
        .unwrap();

    // Demoted owner: the admin-scoped token loses admin routes at once.
    admin
        .update_user(
            user.id,
            &UpdateUserRequest {
                role: Some("viewer".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        refused(token_client.list_users(&UserListParams::default()).await),
        (403, "Admin access required".into())
    );
    // Deactivated owner → 401; re-activated → the token works again.
    admin.deactivate_user(user.id).await.unwrap();
    assert_eq!(
        refused(token_client.me().await),
        (401, "Account deactivated".into())
    );
    admin.activate_user(user.id).await.unwrap();
    token_client.me().await.unwrap();

    // Revoked → the very next request fails.
    let id = token_client
        .me()
        .await
        .unwrap()
        .credential
        .token_id
        .unwrap();
    let owner = server.signed_in("owner@example.com", "password-123").await;
    owner.revoke_token(id).await.unwrap();
    assert_eq!(
        refused(token_client.me().await),
        (401, "Token revoked".into())
    );

    // Expired.
    let short = CreateTokenRequest {
        ttl_seconds: Some(1.into()),
        ..named("short")
    };
    let (_, short_client) = pat(&server, &owner, &short).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        refused(short_client.me().await),
        (401, "Token expired".into())
    );

    // Deleted owner.
    let (_, orphan) = pat(&server, &owner, &named("orphan")).await;
    orphan.me().await.unwrap();
    admin.delete_user(user.id).await.unwrap();
    assert_eq!(refused(orphan.me().await), (401, "User not found".into()));
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_a_lookup() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (token, _) = pat(&server, &admin, &named("ci")).await;
    let mut tampered: Vec<char> = token.chars().collect();
    tampered[20] = if tampered[20] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    for bad in [tampered.as_str(), "da_pat_short", &format!("{token}x")] {
        let response = server.get("/api/me").bearer_auth(bad).send().await.unwrap();
        assert_eq!(response.status(), 401);
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["detail"], "Invalid or expired token");
    }
}

#[tokio::test]
async fn a_token_may_revoke_itself_but_not_see_others() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    server
        .create_user("u@example.com", "analyst", "password-123")
        .await;
    let user = server.signed_in("u@example.com", "password-123").await;
    let theirs = user.create_token(&named("theirs")).await.unwrap().item.id;
    let (_, mine) = pat(&server, &admin, &named("mine")).await;
    assert_eq!(
        refused(mine.token(theirs).await),
        (404, "Token not found".into())
    );
    assert_eq!(
        refused(mine.revoke_token(theirs).await),
        (404, "Token not found".into())
    );
    let own_id = mine.me().await.unwrap().credential.token_id.unwrap();
    mine.revoke_token(own_id).await.unwrap();
    assert_eq!(refused(mine.me().await), (401, "Token revoked".into()));
    let listed = admin.tokens().await.unwrap();
    let own = listed.iter().find(|t| t.id == own_id).unwrap();
    assert_eq!(own.status.as_str(), "revoked");
    assert!(own.revoked_at.is_some());
}

#[tokio::test]
async fn a_hundred_concurrent_requests_with_one_token_all_succeed_and_use_is_recorded() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (_, client) = pat(&server, &admin, &named("busy")).await;
    let requests = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.me().await })
    });
    for request in requests.collect::<Vec<_>>() {
        request.await.unwrap().unwrap();
    }
    let id = client.me().await.unwrap().credential.token_id.unwrap();
    let item = admin.token(id).await.unwrap();
    assert!(item.last_used_at.is_some());
    assert_eq!(item.last_used_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_new_ip_is_audited_but_the_first_use_is_not() {
    let server = TestServer::builder()
        .env("DA_TRUSTED_PROXY_HOPS", "1")
        .start()
        .await;
    let admin = server.admin().await;
    let (token, _) = pat(&server, &admin, &named("roaming")).await;
    for ip in ["10.0.0.1", "10.0.0.1", "10.0.0.2"] {
        let response = server
            .get("/api/me")
            .bearer_auth(&token)
            .header("x-forwarded-for", ip)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = admin
            .audit(&da_types::AuditParams {
                action_prefix: Some("token.first_use_new_ip".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .rows;
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].params,
        json!({"ip": "10.0.0.2", "previous_ip": "10.0.0.1"})
    );
}

#[tokio::test]
async fn admins_see_and_revoke_every_token() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("u@example.com", "analyst", "password-123")
        .await;
    let owner = server.signed_in("u@example.com", "password-123").await;
    let (_, theirs) = pat(&server, &owner, &named("theirs")).await;
    let theirs_id = theirs.me().await.unwrap().credential.token_id.unwrap();
    admin.create_token(&named("mine")).await.unwrap();

    let (all, total) = admin.all_tokens(&TokenListParams::default()).await.unwrap();
    assert_eq!((all.len(), total), (2, 2));
    let by_user = TokenListParams {
        user_id: Some(user.id.to_string()),
        ..Default::default()
    };
    let (mine, _) = admin.all_tokens(&by_user).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].user_email.as_deref(), Some("u@example.com"));

    admin.admin_revoke_token(theirs_id).await.unwrap();
    assert_eq!(refused(theirs.me().await), (401, "Token revoked".into()));
    let revoked = TokenListParams {
        status: Some("revoked".into()),
        ..Default::default()
    };
    assert_eq!(admin.all_tokens(&revoked).await.unwrap().1, 1);
    let rows = admin
        .audit(&da_types::AuditParams {
            action_prefix: Some("token.admin_revoke".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert_eq!(rows[0].params["owner_id"], json!(user.id));

    let bad = TokenListParams {
        status: Some("zombie".into()),
        ..Default::default()
    };
    assert_eq!(
        refused(admin.all_tokens(&bad).await),
        (400, "status must be one of active, expired, revoked".into())
    );
    assert_eq!(
        refused(admin.admin_revoke_token(uuid::Uuid::new_v4()).await),
        (404, "Token not found".into())
    );
    assert_eq!(
        refused(owner.all_tokens(&TokenListParams::default()).await),
        (403, "Admin access required".into())
    );
}

/// "Last used" is batched in memory; a graceful shutdown writes what is pending.
#[tokio::test]
async fn last_use_survives_a_graceful_shutdown() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let (_, client) = pat(&server, &admin, &named("brief")).await;
    let id = client.me().await.unwrap().credential.token_id.unwrap();
    let data_dir = server.stop().await;

    let server = TestServer::builder().data_dir(data_dir).start().await;
    let token = server.admin().await.token(id).await.unwrap();
    assert!(token.last_used_at.is_some());
    assert_eq!(token.last_used_ip.as_deref(), Some("127.0.0.1"));
}
