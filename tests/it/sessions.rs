//! `/api/me/sessions` and the admin's `/api/users/{id}/sessions`.

use crate::users::refused;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};

#[tokio::test]
async fn you_see_your_sessions_with_this_one_marked_and_can_end_one() {
    let server = TestServer::start().await;
    let this = server.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = server.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let sessions = this.my_sessions().await.unwrap();
    assert_eq!(sessions.len(), 2);
    let current: Vec<_> = sessions
        .iter()
        .filter(|s| s.current == Some(true))
        .collect();
    assert_eq!(current.len(), 1);
    assert_eq!(
        current[0].device_label,
        format!("da CLI {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(current[0].ip.as_deref(), Some("127.0.0.1"));
    let other_id = sessions
        .iter()
        .find(|s| s.current == Some(false))
        .unwrap()
        .id;

    this.revoke_my_session(other_id).await.unwrap();
    assert_eq!(refused(other.me().await), (401, "Session revoked".into()));
    assert_eq!(this.my_sessions().await.unwrap().len(), 1);
    // Gone now, and someone else's or unknown ids are equally absent.
    assert_eq!(
        refused(this.revoke_my_session(other_id).await),
        (404, "Session not found".into())
    );
    assert_eq!(
        refused(this.revoke_my_session(uuid::Uuid::new_v4()).await),
        (404, "Session not found".into())
    );
    let response = server
        .http()
        .delete(server.url("/api/me/sessions/not-a-uuid"))
        .bearer_auth(server.admin_token().await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn nobody_can_end_a_session_of_someone_else_through_me() {
    let server = TestServer::start().await;
    server
        .create_user("u@example.com", "viewer", "password-123")
        .await;
    let user = server.signed_in("u@example.com", "password-123").await;
    let admin = server.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin_session = admin.my_sessions().await.unwrap()[0].id;
    assert_eq!(
        refused(user.revoke_my_session(admin_session).await),
        (404, "Session not found".into())
    );
    admin.me().await.unwrap();
}

#[tokio::test]
async fn admins_list_and_end_every_session_of_a_user() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("u@example.com", "viewer", "password-123")
        .await;
    let first = server.signed_in("u@example.com", "password-123").await;
    let second = server.signed_in("u@example.com", "password-123").await;
    let sessions = admin.user_sessions(user.id).await.unwrap();
    assert_eq!(sessions.len(), 2);
    assert!(sessions.iter().all(|s| s.current.is_none()));
    let raw: serde_json::Value = server
        .get(&format!("/api/users/{}/sessions", user.id))
        .bearer_auth(server.admin_token().await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(raw[0].get("current").is_none(), "{raw}");
    for field in [
        "id",
        "device_label",
        "ip",
        "created_at",
        "last_active_at",
        "expires_at",
    ] {
        assert!(raw[0].get(field).is_some(), "{field} in {raw}");
    }

    admin.revoke_user_sessions(user.id).await.unwrap();
    assert_eq!(refused(first.me().await), (401, "Session revoked".into()));
    assert_eq!(refused(second.me().await), (401, "Session revoked".into()));
    assert!(admin.user_sessions(user.id).await.unwrap().is_empty());
    assert_eq!(
        refused(admin.revoke_user_sessions(uuid::Uuid::new_v4()).await),
        (404, "User not found".into())
    );
}
