//! A revocation must hold even when it races the auth cache filling itself from the store: on a
//! cold cache (after a restart) a request that read "valid" just before the revoke committed
//! must not put that stale answer back after the revoke was applied.

use crate::users::refused;
use da_integration_tests::TestServer;
use da_types::CreateTokenRequest;
use tokio::task::JoinSet;

/// Tokens (and users) raced at once; every one is a separate chance for a stale fill.
const TOKENS: usize = 60;
const REQUESTS_PER_TOKEN: usize = 6;

/// Stops the server and starts it again on the same data dir: every cache is cold, every
/// credential still valid.
async fn restart(server: TestServer) -> TestServer {
    let dir = server.stop().await;
    TestServer::builder().data_dir(dir).start().await
}

#[tokio::test]
async fn token_revocations_racing_cold_cache_fills_all_hold() {
    let server = TestServer::start().await;
    let admin_jwt = server.admin_token().await;
    let admin = server.client().with_token(admin_jwt.clone());
    let mut tokens = Vec::new();
    for n in 0..TOKENS {
        let request = CreateTokenRequest {
            name: format!("race-{n}"),
            ..Default::default()
        };
        let created = admin.create_token(&request).await.unwrap();
        tokens.push((created.item.id, created.token));
    }
    let server = restart(server).await;
    let admin = server.client().with_token(admin_jwt);
    admin.me().await.unwrap();

    // Everything at once: uses of every token (cache misses that read the store) and the
    // revocation of every token.
    let base = server.client();
    let mut work = JoinSet::new();
    for (id, secret) in &tokens {
        for _ in 0..REQUESTS_PER_TOKEN {
            let client = base.with_token(secret.clone());
            work.spawn(async move {
                let _ = client.me().await;
            });
        }
        let (admin, id) = (admin.clone(), *id);
        work.spawn(async move { admin.revoke_token(id).await.unwrap() });
    }
    work.join_all().await;

    let mut still_working = Vec::new();
    for (n, (_, secret)) in tokens.iter().enumerate() {
        let client = server.client().with_token(secret.clone());
        if client.me().await.is_ok() {
            still_working.push(n);
        } else {
            assert_eq!(refused(client.me().await), (401, "Token revoked".into()));
        }
    }
    assert!(
        still_working.is_empty(),
        "revoked tokens still authenticate: {still_working:?}"
    );
}

#[tokio::test]
async fn deactivations_racing_cold_cache_fills_all_hold() {
    let server = TestServer::start().await;
    let admin_jwt = server.admin_token().await;
    // One PAT per user (no Argon2 per user beyond creation): a PAT's use fills the user cache.
    let mut users = Vec::new();
    for n in 0..TOKENS / 2 {
        let email = format!("cold-{n}@example.com");
        let user = server.create_user(&email, "analyst", "password-123").await;
        let session = server.signed_in(&email, "password-123").await;
        let created = session
            .create_token(&CreateTokenRequest {
                name: "ci".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        users.push((user.id, created.token));
    }
    let server = restart(server).await;
    let admin = server.client().with_token(admin_jwt);
    admin.me().await.unwrap();

    let base = server.client();
    let mut work = JoinSet::new();
    for (id, secret) in &users {
        for _ in 0..REQUESTS_PER_TOKEN {
            let client = base.with_token(secret.clone());
            work.spawn(async move {
                let _ = client.me().await;
            });
        }
        let (admin, id) = (admin.clone(), *id);
        work.spawn(async move {
            admin.deactivate_user(id).await.unwrap();
        });
    }
    work.join_all().await;

    let mut still_working = Vec::new();
    for (n, (_, secret)) in users.iter().enumerate() {
        let client = server.client().with_token(secret.clone());
        if client.me().await.is_ok() {
            still_working.push(n);
        }
    }
    assert!(
        still_working.is_empty(),
        "deactivated users' tokens still authenticate: {still_working:?}"
    );
}
