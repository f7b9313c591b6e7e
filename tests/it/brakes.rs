//! Brakes on guessing that cannot be turned against the owner (`API.md` §3 "Brakes on
//! guessing"): the back-off is per account *and* client address (IPv6 by /64), a slower
//! per-account limit stops distributed guessing, the current-password check of
//! `POST /api/me/password` is braked like a login, and reset mails have a per-account cooldown.

use crate::passwords::{link_parts, server_with_mail};
use crate::users::refused;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use serde_json::json;

/// Wrong passwords across all addresses an account takes before unknown addresses are refused.
const ACCOUNT_BUDGET: usize = 20;

/// A server that trusts one proxy hop, so each test request can name its client address.
async fn behind_a_proxy() -> TestServer {
    TestServer::builder()
        .env("DA_TRUSTED_PROXY_HOPS", "1")
        .start()
        .await
}

async fn login_from(server: &TestServer, ip: &str, email: &str, password: &str) -> u16 {
    server
        .post("/auth/token")
        .header("x-forwarded-for", ip)
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_owner_out_elsewhere() {
    let server = behind_a_proxy().await;
    for _ in 0..6 {
        let status = login_from(&server, "203.0.113.7", ADMIN_EMAIL, "wrong-password").await;
        assert!(status == 401 || status == 429, "{status}");
    }
    assert_eq!(
        login_from(&server, "203.0.113.7", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        429,
        "the guessing address is slowed down"
    );
    assert_eq!(
        login_from(&server, "198.51.100.2", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        200,
        "the owner, elsewhere, signs in"
    );
}

#[tokio::test]
async fn ipv6_clients_are_braked_by_their_64_bit_prefix() {
    let server = behind_a_proxy().await;
    for host in 1..=5 {
        let ip = format!("2001:db8:1:2::{host}");
        assert_eq!(
            login_from(&server, &ip, ADMIN_EMAIL, "wrong-password").await,
            401
        );
    }
    // Another address of the same /64 is the same client…
    assert_eq!(
        login_from(&server, "2001:db8:1:2::99", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        429
    );
    // …a neighbouring /64 is not.
    assert_eq!(
        login_from(&server, "2001:db8:1:3::1", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        200
    );
}

#[tokio::test]
async fn distributed_guessing_meets_a_per_account_limit_that_spares_known_addresses() {
    let server = behind_a_proxy().await;
    server
        .create_user("bystander@example.com", "analyst", "password-123")
        .await;
    // The owner has signed in from their usual address before the attack.
    assert_eq!(
        login_from(&server, "198.51.100.2", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        200
    );
    // One guess from each of many addresses: no single address is ever slowed down.
    for n in 0..ACCOUNT_BUDGET {
        let ip = format!("203.0.113.{}", n + 1);
        assert_eq!(
            login_from(&server, &ip, ADMIN_EMAIL, "wrong-password").await,
            401,
            "guess {n}"
        );
    }
    let next = login_from(&server, "192.0.2.200", ADMIN_EMAIL, "wrong-password").await;
    assert_eq!(next, 429, "the account-wide limit stops the next guess");
    // Even a right guess from a new address is refused now (no oracle)…
    assert_eq!(
        login_from(&server, "192.0.2.201", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        429
    );
    // …but the owner's known address still works, and other accounts are untouched.
    assert_eq!(
        login_from(&server, "198.51.100.2", ADMIN_EMAIL, ADMIN_PASSWORD).await,
        200
    );
    assert_eq!(
        login_from(
            &server,
            "192.0.2.202",
            "bystander@example.com",
            "password-123"
        )
        .await,
        200
    );
}

#[tokio::test]
async fn wrong_current_passwords_are_braked_like_logins() {
    let server = TestServer::start().await;
    // Someone holding a stolen session tries to learn the password through this check.
    let jwt = server.admin_token().await;
    let thief = server.client().with_token(jwt.clone());
    for attempt in 0..5 {
        assert_eq!(
            refused(
                thief
                    .change_password("wrong-password", "new-password-1")
                    .await
            ),
            (400, "Current password is incorrect".into()),
            "attempt {attempt}"
        );
    }
    let braked = server
        .post("/api/me/password")
        .bearer_auth(&jwt)
        .json(&json!({"current_password": ADMIN_PASSWORD, "new_password": "new-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(braked.status(), 429, "even the right one, while braked");
    assert!(braked.headers().contains_key("retry-after"));
    // It is the same brake as for logins: this address cannot sign in as the admin for now.
    let login = server
        .post("/auth/token")
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 429);
}

#[tokio::test]
async fn reset_mails_have_a_per_account_cooldown() {
    let (server, sink) = server_with_mail().await;
    let client = server.client();
    client.request_password_reset(ADMIN_EMAIL).await.unwrap();
    let first = sink.wait_for(ADMIN_EMAIL).await.link().unwrap();
    for _ in 0..4 {
        let answer = client.request_password_reset(ADMIN_EMAIL).await.unwrap();
        assert_eq!(
            answer.message,
            "If this email is registered, a reset link has been sent."
        );
    }
    // The answers return before the mail work; a mail that was going to be sent would have
    // reached the sink well within this (the first took milliseconds).
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(
        sink.mails().len(),
        1,
        "one mail per cooldown, however often it is asked for"
    );
    // And the first link was not replaced: it still works.
    let (_, token) = link_parts(&first);
    server
        .client()
        .confirm_password_reset(&da_types::ResetConfirmRequest {
            email: ADMIN_EMAIL.into(),
            token,
            password: "brand-new-password".into(),
        })
        .await
        .expect("the first link still works");
}
