//! Password flows: forgotten passwords by mail, reset and setup links, changing your own.

use crate::users::refused;
use da_integration_tests::smtp::SmtpSink;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};
use da_types::{CreateUserRequest, ResetConfirmRequest, SetupRequest};

/// `(email, token)` from a `/reset-password?email=…&token=…` or `/setup?…` link.
pub(crate) fn link_parts(url: &str) -> (String, String) {
    let url = reqwest::Url::parse(url).expect("a URL");
    let value = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.into_owned())
            .expect(name)
    };
    (value("email"), value("token"))
}

/// A server that mails through a local SMTP sink, with the public URL mails must use.
pub(crate) async fn server_with_mail() -> (TestServer, SmtpSink) {
    let sink = SmtpSink::start().await;
    let server = TestServer::builder()
        .env("DA_SMTP_URL", &sink.url)
        .env("DA_SMTP_FROM", "da <noreply@da.example>")
        .env("DA_PUBLIC_URL", "https://da.example")
        .start()
        .await;
    (server, sink)
}

#[tokio::test]
async fn forgot_password_mails_a_link_that_resets_and_signs_in() {
    let (server, sink) = server_with_mail().await;
    let user = server
        .create_user("ann@example.com", "analyst", "old-password-1")
        .await;
    let old_session = server.signed_in("ann@example.com", "old-password-1").await;

    let answer = server
        .client()
        .request_password_reset("Ann@Example.com")
        .await
        .unwrap();
    assert_eq!(
        answer.message,
        "If this email is registered, a reset link has been sent."
    );
    let mail = sink.wait_for("ann@example.com").await;
    assert!(
        mail.data.contains("Reset your da password"),
        "{}",
        mail.data
    );
    let link = mail.link().expect("a link in the mail");
    assert!(
        link.starts_with("https://da.example/reset-password?email=ann%40example.com&token="),
        "{link}"
    );
    let (email, token) = link_parts(&link);

    let confirm = |password: &str| ResetConfirmRequest {
        email: email.clone(),
        token: token.clone(),
        password: password.to_owned(),
    };
    assert_eq!(
        refused(
            server
                .client()
                .confirm_password_reset(&confirm("short"))
                .await
        ),
        (400, "Password must be at least 8 characters".into())
    );
    let signed_in = server
        .client()
        .confirm_password_reset(&confirm("new-password-1"))
        .await
        .unwrap();
    assert_eq!(signed_in.user_id, user.id);
    server
        .client()
        .with_token(signed_in.access_token)
        .me()
        .await
        .unwrap();
    // Other sessions ended; the old password is gone; the link is single-use.
    assert_eq!(
        refused(old_session.me().await),
        (401, "Session revoked".into())
    );
    assert_eq!(
        refused(
            server
                .client()
                .login("ann@example.com", "old-password-1")
                .await
        )
        .0,
        401
    );
    assert_eq!(
        refused(
            server
                .client()
                .confirm_password_reset(&confirm("another-password"))
                .await
        ),
        (400, "Invalid or expired reset link".into())
    );
}

#[tokio::test]
async fn unknown_emails_get_the_same_answer_and_no_mail() {
    let (server, sink) = server_with_mail().await;
    let answer = server
        .client()
        .request_password_reset("nobody@example.com")
        .await
        .unwrap();
    assert_eq!(
        answer.message,
        "If this email is registered, a reset link has been sent."
    );
    // A known address sent afterwards arrives; the unknown one never did.
    server
        .client()
        .request_password_reset(ADMIN_EMAIL)
        .await
        .unwrap();
    sink.wait_for(ADMIN_EMAIL).await;
    assert!(
        sink.mails()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains("nobody")))
    );
}

#[tokio::test]
async fn wrong_or_foreign_tokens_are_invalid_links() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let a = server
        .create_user("a@example.com", "viewer", "password-123")
        .await;
    server
        .create_user("b@example.com", "viewer", "password-123")
        .await;
    let link = admin.issue_reset_link(a.id).await.unwrap();
    let (_, token) = link_parts(&link.reset_url);
    for (email, token) in [
        ("a@example.com", "0".repeat(64)),
        ("a@example.com", String::new()),
        ("b@example.com", token.clone()),
        ("nobody@example.com", token.clone()),
        ("not an email", token.clone()),
    ] {
        let result = server
            .client()
            .confirm_password_reset(&ResetConfirmRequest {
                email: email.into(),
                token,
                password: "new-password-1".into(),
            })
            .await;
        assert_eq!(
            refused(result),
            (400, "Invalid or expired reset link".into()),
            "{email}"
        );
    }
    // A newer link replaces the pending one.
    let newer = admin.issue_reset_link(a.id).await.unwrap();
    let stale = server
        .client()
        .confirm_password_reset(&ResetConfirmRequest {
            email: "a@example.com".into(),
            token,
            password: "new-password-1".into(),
        })
        .await;
    assert_eq!(
        refused(stale),
        (400, "Invalid or expired reset link".into())
    );
    let (_, fresh) = link_parts(&newer.reset_url);
    server
        .client()
        .confirm_password_reset(&ResetConfirmRequest {
            email: "a@example.com".into(),
            token: fresh,
            password: "new-password-1".into(),
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn of_many_concurrent_confirms_exactly_one_wins() {
    let server = TestServer::start().await;
    let user = server
        .create_user("race@example.com", "viewer", "password-123")
        .await;
    let link = server
        .admin()
        .await
        .issue_reset_link(user.id)
        .await
        .unwrap();
    let (email, token) = link_parts(&link.reset_url);
    let attempts = (0..8).map(|i| {
        let client = server.client();
        let request = ResetConfirmRequest {
            email: email.clone(),
            token: token.clone(),
            password: format!("racing-password-{i}"),
        };
        tokio::spawn(async move { client.confirm_password_reset(&request).await })
    });
    let mut wins = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Ok(_) => wins += 1,
            Err(err) => {
                assert_eq!(err.status(), Some(400));
                assert_eq!(err.detail(), Some("Invalid or expired reset link"));
            }
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn an_invite_link_sets_the_password_and_name_and_signs_in() {
    let (server, sink) = server_with_mail().await;
    let admin = server.admin().await;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "newbie@example.com".into(),
            role: Some("viewer".into()),
            send_invite: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.invite_email_sent, Some(true));
    let url = created.invite_url.clone().unwrap();
    assert!(url.starts_with("https://da.example/setup?email=newbie%40example.com&token="));
    let mail = sink.wait_for("newbie@example.com").await;
    assert_eq!(mail.link().as_deref(), Some(url.as_str()));
    let (email, token) = link_parts(&url);

    let setup = |token: &str| SetupRequest {
        email: email.clone(),
        token: token.to_owned(),
        password: "my-own-password".into(),
        name: Some("New Bie".into()),
    };
    assert_eq!(
        refused(server.client().complete_setup(&setup("bad")).await),
        (400, "Invalid or expired setup link".into())
    );
    let signed_in = server
        .client()
        .complete_setup(&setup(&token))
        .await
        .unwrap();
    assert_eq!(signed_in.role.as_str(), "viewer");
    let me = server
        .client()
        .with_token(signed_in.access_token)
        .me()
        .await
        .unwrap();
    assert_eq!(me.name, "New Bie");
    assert_eq!(
        refused(server.client().complete_setup(&setup(&token)).await),
        (400, "Invalid or expired setup link".into())
    );
    server
        .signed_in("newbie@example.com", "my-own-password")
        .await;
}

#[tokio::test]
async fn a_deactivated_invitee_cannot_use_the_setup_link() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "late@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin.deactivate_user(created.user.id).await.unwrap();
    let (email, token) = link_parts(&created.invite_url.unwrap());
    let result = server
        .client()
        .complete_setup(&SetupRequest {
            email,
            token,
            password: "my-own-password".into(),
            name: None,
        })
        .await;
    assert_eq!(refused(result), (403, "Account deactivated".into()));
}

#[tokio::test]
async fn changing_your_own_password_keeps_this_session_and_ends_the_others() {
    let server = TestServer::start().await;
    let this = server.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = server.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(
        refused(
            this.change_password("wrong-password", "next-password-1")
                .await
        ),
        (400, "Current password is incorrect".into())
    );
    assert_eq!(
        refused(this.change_password(ADMIN_PASSWORD, "short").await),
        (400, "Password must be at least 8 characters".into())
    );
    this.change_password(ADMIN_PASSWORD, "next-password-1")
        .await
        .unwrap();
    this.me().await.unwrap();
    assert_eq!(refused(other.me().await), (401, "Session revoked".into()));
    server.signed_in(ADMIN_EMAIL, "next-password-1").await;
}

#[tokio::test]
async fn without_smtp_forgot_password_says_so_and_leaves_an_admins_link_alone() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("ann@example.com", "analyst", "old-password-1")
        .await;
    let handed_over = admin.issue_reset_link(user.id).await.unwrap();
    assert!(!handed_over.email_sent);
    for email in ["ann@example.com", "nobody@example.com"] {
        let answer = server.client().request_password_reset(email).await.unwrap();
        assert_eq!(
            answer.message,
            "Password reset by email is not set up on this server. Ask an administrator for a reset link."
        );
    }
    // Anyone asking did not replace the link the admin handed over.
    let (email, token) = link_parts(&handed_over.reset_url);
    server
        .client()
        .confirm_password_reset(&ResetConfirmRequest {
            email,
            token,
            password: "new-password-1".into(),
        })
        .await
        .expect("the admin's link still works");
}
