//! `GET /api/admin/audit`: the rows each action writes, filters, cursor paging.

use crate::users::refused;
use da_integration_tests::{ADMIN_EMAIL, TestServer};
use da_types::{AuditParams, AuditRow, CreateUserRequest, UpdateUserRequest};

async fn rows(client: &da_client::Client, prefix: &str) -> Vec<AuditRow> {
    client
        .audit(&AuditParams {
            action_prefix: Some(prefix.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows
}

#[tokio::test]
async fn every_user_action_writes_its_row_with_actor_resource_and_params() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.me().await.unwrap().id;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "audited@example.com".into(),
            role: Some("viewer".into()),
            password: Some("password-123".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = created.user.id;
    admin
        .update_user(
            id,
            &UpdateUserRequest {
                role: Some("analyst".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin.deactivate_user(id).await.unwrap();
    admin.activate_user(id).await.unwrap();
    admin.issue_reset_link(id).await.unwrap();
    admin.set_user_password(id, "password-456").await.unwrap();
    server
        .signed_in("audited@example.com", "password-456")
        .await;
    admin.revoke_user_sessions(id).await.unwrap();
    let _ = server
        .client()
        .login("audited@example.com", "wrong-password")
        .await;
    admin.delete_user(id).await.unwrap();

    let all = admin.audit(&AuditParams::default()).await.unwrap().rows;
    let actions: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    // Newest first.
    assert_eq!(
        actions[..10],
        [
            "user.delete",
            "auth.login_failed",
            "session.revoke",
            "auth.login",
            "user.set_password",
            "user.reset_password",
            "user.update",
            "user.update",
            "user.update",
            "user.create",
        ]
    );
    let resource = format!("user:{id}");
    for row in all.iter().filter(|r| r.action.starts_with("user.")) {
        assert_eq!(row.resource.as_deref(), Some(resource.as_str()), "{row:?}");
        assert_eq!(row.actor_id, Some(admin_id));
        assert_eq!(row.actor_email.as_deref(), Some(ADMIN_EMAIL));
        assert_eq!(row.ip.as_deref(), Some("127.0.0.1"));
    }
    let role_change = &all[8];
    assert_eq!(
        role_change.params["changes"]["role"],
        serde_json::json!({"from": "viewer", "to": "analyst"})
    );
    assert_eq!(all[7].params["changes"]["active"], false);
    let failed = &all[1];
    assert_eq!(failed.params["reason"], "wrong_password");
    assert!(!failed.params.to_string().contains("wrong-password"));
    // No secret ever lands in the log.
    let everything = serde_json::to_string(&all).unwrap();
    assert!(!everything.contains("password-456"));
}

#[tokio::test]
async fn filters_and_cursor_paging_walk_the_whole_log_once() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for i in 0..7 {
        server
            .create_user(&format!("p{i}@example.com"), "viewer", "password-123")
            .await;
    }
    assert_eq!(rows(&admin, "user.create").await.len(), 7);
    assert_eq!(rows(&admin, "user.").await.len(), 7);
    assert!(rows(&admin, "token.").await.is_empty());

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = admin
            .audit(&AuditParams {
                action_prefix: Some("user.create".into()),
                limit: Some("3".into()),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(page.rows.len() <= 3);
        seen.extend(page.rows.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "no row twice");

    let me = admin.me().await.unwrap().id;
    let by_me = admin
        .audit(&AuditParams {
            actor_id: Some(me.to_string()),
            since: Some("2000-01-01T00:00:00Z".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert!(by_me.iter().all(|r| r.actor_id == Some(me)));
    let future = admin
        .audit(&AuditParams {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(future.rows.is_empty() && future.next_cursor.is_none());
}

#[tokio::test]
async fn bad_audit_queries_are_400_with_the_reason() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for (params, detail) in [
        (
            AuditParams {
                limit: Some("501".into()),
                ..Default::default()
            },
            "limit must be between 1 and 500",
        ),
        (
            AuditParams {
                actor_id: Some("bob".into()),
                ..Default::default()
            },
            "actor_id must be a UUID",
        ),
        (
            AuditParams {
                since: Some("yesterday".into()),
                ..Default::default()
            },
            "since must be an RFC 3339 timestamp, e.g. 2026-11-22T17:04:05Z",
        ),
        (
            AuditParams {
                cursor: Some("garbage".into()),
                ..Default::default()
            },
            "cursor is not valid: pass next_cursor back unchanged",
        ),
    ] {
        assert_eq!(refused(admin.audit(&params).await), (400, detail.into()));
    }
}
