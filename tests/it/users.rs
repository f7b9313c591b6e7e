//! `/api/users…`: every route, the safeguards and their exact 409s, immediate lock-out.

use da_client::ClientError;
use da_integration_tests::{ADMIN_EMAIL, TestServer};
use da_types::{CreateUserRequest, UpdateUserRequest, UserListParams};
use serde_json::json;

/// The status and `detail` of a refused call.
pub fn refused<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, String) {
    let err = result.expect_err("the call should have been refused");
    (
        err.status().unwrap_or(0),
        err.detail().unwrap_or("").to_owned(),
    )
}

fn update(name: Option<&str>, role: Option<&str>, active: Option<bool>) -> UpdateUserRequest {
    UpdateUserRequest {
        name: name.map(str::to_owned),
        role: role.map(str::to_owned),
        active,
    }
}

#[tokio::test]
async fn admins_create_users_with_defaults_and_emails_are_unique_case_insensitively() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "  Ada@Example.COM ".into(),
            password: Some("ada-password-1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.user.email, "ada@example.com");
    assert_eq!(created.user.name, "ada");
    assert_eq!(created.user.role.as_str(), "analyst");
    assert!(created.user.active && created.user.has_password);
    assert_eq!(created.invite_url, None);
    assert_eq!(created.invite_email_sent, None);

    let duplicate = admin
        .create_user(&CreateUserRequest {
            email: "ADA@example.com".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(
        refused(duplicate),
        (409, "User with this email already exists".into())
    );
    // The new user can sign in with the password the admin set.
    server.signed_in("ada@example.com", "ada-password-1").await;
}

#[tokio::test]
async fn create_validates_email_role_and_password() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let cases = [
        (
            json!({"email": "nope"}),
            "A valid email address is required",
        ),
        (
            json!({"email": "a@b.co", "role": "root"}),
            "Unknown role: root",
        ),
        (
            json!({"email": "a@b.co", "password": "short"}),
            "Password must be at least 8 characters",
        ),
        (
            json!({"email": "a@b.co", "password": "x".repeat(257)}),
            "Password must be at most 256 characters",
        ),
    ];
    let token = server.admin_token().await;
    for (body, detail) in cases {
        let response = server
            .post("/api/users")
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            error,
            json!({"detail": detail, "code": "invalid"}),
            "{body}"
        );
    }
    let (_, total) = admin.list_users(&UserListParams::default()).await.unwrap();
    assert_eq!(total, 1, "nothing was created");
}

#[tokio::test]
async fn without_a_password_an_invite_link_is_returned() {
    let server = TestServer::start().await;
    let created = server
        .admin()
        .await
        .create_user(&CreateUserRequest {
            email: "new@example.com".into(),
            role: Some("viewer".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!created.user.has_password);
    let url = created.invite_url.expect("invite url");
    assert!(
        url.starts_with(&format!(
            "{}/setup?email=new%40example.com&token=",
            server.base_url
        )),
        "{url}"
    );
    assert_eq!(created.invite_email_sent, Some(false));
    // A password-less account cannot sign in yet.
    let login = server
        .client()
        .login("new@example.com", "whatever-pass")
        .await;
    assert_eq!(
        refused(login),
        (
            401,
            "This account has no password. Ask an administrator for a setup link.".into()
        )
    );
}

#[tokio::test]
async fn listing_filters_searches_pages_and_counts() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    for (email, name, role) in [
        ("carol@example.com", "Carol Jones", "viewer"),
        ("bob@example.com", "Bob Smith", "analyst"),
        ("dave@other.org", "Dave", "km_admin"),
    ] {
        admin
            .create_user(&CreateUserRequest {
                email: email.into(),
                name: Some(name.into()),
                role: Some(role.into()),
                password: Some("password-123".into()),
                send_invite: false,
            })
            .await
            .unwrap();
    }
    let list = |params: UserListParams| {
        let admin = admin.clone();
        async move {
            let (users, total) = admin.list_users(&params).await.unwrap();
            (
                users.into_iter().map(|u| u.email).collect::<Vec<_>>(),
                total,
            )
        }
    };
    let (all, total) = list(UserListParams::default()).await;
    assert_eq!(
        all,
        [
            ADMIN_EMAIL,
            "bob@example.com",
            "carol@example.com",
            "dave@other.org"
        ]
    );
    assert_eq!(total, 4);

    let search = |q: &str| UserListParams {
        q: Some(q.into()),
        ..Default::default()
    };
    assert_eq!(list(search("SMITH")).await.0, ["bob@example.com"]);
    assert_eq!(list(search("example.com")).await.1, 3);
    let exact = UserListParams {
        email: Some("CAROL@example.com".into()),
        ..Default::default()
    };
    assert_eq!(list(exact).await.0, ["carol@example.com"]);
    let by_role = UserListParams {
        role: Some("km_admin".into()),
        ..Default::default()
    };
    assert_eq!(list(by_role).await.0, ["dave@other.org"]);
    let page = UserListParams {
        limit: Some("2".into()),
        offset: Some("1".into()),
        ..Default::default()
    };
    assert_eq!(
        list(page).await,
        (
            vec!["bob@example.com".to_owned(), "carol@example.com".to_owned()],
            4
        )
    );

    let token = server.admin_token().await;
    for (query, detail) in [
        ("limit=0", "limit must be between 1 and 1000"),
        ("limit=1001", "limit must be between 1 and 1000"),
        ("limit=abc", "limit must be between 1 and 1000"),
        (
            "offset=-1",
            "offset must be between 0 and 9223372036854775807",
        ),
        ("active=maybe", "active must be true or false"),
        ("role=boss", "Unknown role: boss"),
    ] {
        let response = server
            .get(&format!("/api/users?{query}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["detail"], detail, "{query}");
    }
    let response = server
        .get("/api/users?active=true&limit=1")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-total-count"], "4");
}

#[tokio::test]
async fn non_admins_get_403_on_every_user_route() {
    let server = TestServer::start().await;
    let user = server
        .create_user("km@example.com", "km_admin", "password-123")
        .await;
    let token = server
        .client()
        .login("km@example.com", "password-123")
        .await
        .unwrap()
        .access_token;
    let id = user.id;
    let routes = [
        ("GET", "/api/users".to_owned()),
        ("POST", "/api/users".to_owned()),
        ("GET", format!("/api/users/{id}")),
        ("PATCH", format!("/api/users/{id}")),
        ("DELETE", format!("/api/users/{id}")),
        ("POST", format!("/api/users/{id}/deactivate")),
        ("POST", format!("/api/users/{id}/activate")),
        ("POST", format!("/api/users/{id}/reset-password")),
        ("POST", format!("/api/users/{id}/set-password")),
        ("GET", format!("/api/users/{id}/sessions")),
        ("DELETE", format!("/api/users/{id}/sessions")),
        ("GET", "/api/admin/audit".to_owned()),
    ];
    for (method, path) in routes {
        let response = server
            .http()
            .request(method.parse().unwrap(), server.url(&path))
            .bearer_auth(&token)
            .json(&json!({"email": "x@y.zz", "password": "password-123", "name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            error,
            json!({"detail": "Admin access required", "code": "forbidden"}),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_user_not_found() {
    let server = TestServer::start().await;
    let token = server.admin_token().await;
    for path in [
        format!("/api/users/{}", uuid::Uuid::new_v4()),
        "/api/users/not-a-uuid".to_owned(),
        format!("/api/users/{}/sessions", uuid::Uuid::new_v4()),
    ] {
        let response = server.get(&path).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            error,
            json!({"detail": "User not found", "code": "not_found"})
        );
    }
}

#[tokio::test]
async fn patch_changes_name_and_role_and_validates() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("eve@example.com", "viewer", "password-123")
        .await;
    let changed = admin
        .update_user(user.id, &update(Some(" Eve A. "), Some("analyst"), None))
        .await
        .unwrap();
    assert_eq!(changed.name, "Eve A.");
    assert_eq!(changed.role.as_str(), "analyst");
    assert!(changed.updated_at >= user.updated_at);
    assert_eq!(admin.user(user.id).await.unwrap(), changed);

    assert_eq!(
        refused(admin.update_user(user.id, &update(None, None, None)).await),
        (
            400,
            "At least one of name, role or active is required".into()
        )
    );
    assert_eq!(
        refused(
            admin
                .update_user(user.id, &update(None, Some("god"), None))
                .await
        ),
        (400, "Unknown role: god".into())
    );
    assert_eq!(
        refused(
            admin
                .update_user(user.id, &update(Some("  "), None, None))
                .await
        ),
        (400, "name must not be blank".into())
    );
}

#[tokio::test]
async fn a_role_change_applies_to_the_very_next_request() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("boss@example.com", "admin", "password-123")
        .await;
    let boss = server.signed_in("boss@example.com", "password-123").await;
    boss.list_users(&UserListParams::default()).await.unwrap();
    admin
        .update_user(user.id, &update(None, Some("viewer"), None))
        .await
        .unwrap();
    assert_eq!(
        refused(boss.list_users(&UserListParams::default()).await),
        (403, "Admin access required".into())
    );
    assert_eq!(boss.me().await.unwrap().role.as_str(), "viewer");
}

#[tokio::test]
async fn deactivation_locks_out_at_once_and_reactivation_does_not_revive_sessions() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.me().await.unwrap().id;
    let user = server
        .create_user("gone@example.com", "analyst", "password-123")
        .await;
    let session = server.signed_in("gone@example.com", "password-123").await;
    session.me().await.unwrap();

    let deactivated = admin.deactivate_user(user.id).await.unwrap();
    assert!(!deactivated.active);
    assert!(deactivated.deactivated_at.is_some());
    assert_eq!(deactivated.deactivated_by, Some(admin_id));
    assert_eq!(
        refused(session.me().await),
        (401, "Account deactivated".into())
    );
    assert_eq!(
        refused(
            server
                .client()
                .login("gone@example.com", "password-123")
                .await
        ),
        (401, "Account deactivated".into())
    );

    let activated = admin.activate_user(user.id).await.unwrap();
    assert!(activated.active);
    assert_eq!(activated.deactivated_at, None);
    assert_eq!(activated.deactivated_by, None);
    // The old session stays revoked; a fresh login works.
    assert_eq!(refused(session.me().await), (401, "Session revoked".into()));
    server.signed_in("gone@example.com", "password-123").await;
}

#[tokio::test]
async fn the_safeguards_refuse_self_lockout_and_losing_the_last_admin() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let me = admin.me().await.unwrap().id;
    assert_eq!(
        refused(admin.deactivate_user(me).await),
        (409, "Cannot deactivate yourself".into())
    );
    assert_eq!(
        refused(
            admin
                .update_user(me, &update(None, None, Some(false)))
                .await
        ),
        (409, "Cannot deactivate yourself".into())
    );
    assert_eq!(
        refused(admin.delete_user(me).await),
        (409, "Cannot delete yourself".into())
    );
    assert_eq!(
        refused(
            admin
                .update_user(me, &update(None, Some("analyst"), None))
                .await
        ),
        (409, "Cannot demote the last active admin".into())
    );

    // With a second admin, either may deactivate the other; whoever is left is the last one.
    let other = server
        .create_user("admin2@example.com", "admin", "password-123")
        .await;
    let other_client = server.signed_in("admin2@example.com", "password-123").await;
    other_client.deactivate_user(me).await.unwrap();
    assert_eq!(
        refused(
            other_client
                .update_user(other.id, &update(None, Some("km_admin"), None))
                .await
        ),
        (409, "Cannot demote the last active admin".into())
    );
    // A deactivated admin does not count: deleting them leaves one active admin.
    other_client.delete_user(me).await.unwrap();
    assert_eq!(
        refused(other_client.delete_user(other.id).await),
        (409, "Cannot delete yourself".into())
    );
    let (admins, _) = other_client
        .list_users(&UserListParams {
            role: Some("admin".into()),
            active: Some("true".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(admins.len(), 1);
}

/// Two admins deactivating each other at the same moment: the check inside the write's
/// transaction lets exactly one through, so an active admin always remains.
#[tokio::test]
async fn racing_admins_cannot_remove_each_other_both() {
    for round in 0..3 {
        let server = TestServer::start().await;
        let a = server
            .create_user("a@example.com", "admin", "password-123")
            .await;
        let b = server
            .create_user("b@example.com", "admin", "password-123")
            .await;
        let a_client = server.signed_in("a@example.com", "password-123").await;
        let b_client = server.signed_in("b@example.com", "password-123").await;
        // Leave a and b as the only active admins.
        let root_id = server.admin().await.me().await.unwrap().id;
        a_client.deactivate_user(root_id).await.unwrap();

        let (ra, rb) = tokio::join!(
            a_client.deactivate_user(b.id),
            b_client.deactivate_user(a.id)
        );
        let outcomes = [ra.map(|_| ()), rb.map(|_| ())];
        assert_eq!(
            outcomes.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {outcomes:?}"
        );
        for err in outcomes.iter().filter_map(|r| r.as_ref().err()) {
            let outcome = (err.status().unwrap(), err.detail().unwrap());
            assert!(
                outcome == (409, "Cannot deactivate the last active admin")
                    || outcome == (401, "Account deactivated"),
                "round {round}: {outcome:?}"
            );
        }
        let survivor = if outcomes[0].is_ok() {
            &a_client
        } else {
            &b_client
        };
        let (_, active_admins) = survivor
            .list_users(&UserListParams {
                role: Some("admin".into()),
                active: Some("true".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(active_admins, 1, "round {round}");
    }
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions_and_keeps_their_audit_rows() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("temp@example.com", "analyst", "password-123")
        .await;
    let session = server.signed_in("temp@example.com", "password-123").await;
    admin.delete_user(user.id).await.unwrap();
    assert_eq!(refused(session.me().await), (401, "User not found".into()));
    assert_eq!(
        refused(admin.user(user.id).await),
        (404, "User not found".into())
    );
    assert_eq!(
        refused(admin.delete_user(user.id).await),
        (404, "User not found".into())
    );
    let rows = admin
        .audit(&da_types::AuditParams {
            actor_id: Some(user.id.to_string()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert!(rows.iter().any(|r| r.action == "auth.login"), "{rows:?}");
    // The email is free again.
    server
        .create_user("temp@example.com", "viewer", "password-456")
        .await;
}

#[tokio::test]
async fn admin_set_password_and_reset_link() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let user = server
        .create_user("pw@example.com", "analyst", "password-123")
        .await;
    let session = server.signed_in("pw@example.com", "password-123").await;

    assert_eq!(
        refused(admin.set_user_password(user.id, "short").await),
        (400, "Password must be at least 8 characters".into())
    );
    admin
        .set_user_password(user.id, "brand-new-password")
        .await
        .unwrap();
    assert_eq!(refused(session.me().await), (401, "Session revoked".into()));
    assert_eq!(
        refused(
            server
                .client()
                .login("pw@example.com", "password-123")
                .await
        )
        .0,
        401
    );
    server
        .signed_in("pw@example.com", "brand-new-password")
        .await;

    let link = admin.issue_reset_link(user.id).await.unwrap();
    assert!(!link.email_sent);
    assert!(
        link.reset_url.starts_with(&format!(
            "{}/reset-password?email=pw%40example.com&token=",
            server.base_url
        )),
        "{}",
        link.reset_url
    );
    let raw = server
        .post(&format!("/api/users/{}/reset-password", user.id))
        .bearer_auth(server.admin_token().await)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = raw.json().await.unwrap();
    let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["email_sent", "reset_url"],
        "never a bare token field"
    );
    assert_eq!(
        refused(admin.issue_reset_link(uuid::Uuid::new_v4()).await),
        (404, "User not found".into())
    );
}

#[tokio::test]
async fn names_and_emails_with_markup_come_back_verbatim_in_json() {
    let server = TestServer::start().await;
    let created = server
        .admin()
        .await
        .create_user(&CreateUserRequest {
            email: "x@example.com".into(),
            name: Some("<script>alert(\"1\")</script> O'Brien".into()),
            password: Some("password-123".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.user.name, "<script>alert(\"1\")</script> O'Brien");
}

#[tokio::test]
async fn an_invited_user_can_be_sent_a_new_link_and_the_old_one_stops_working() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let created = admin
        .create_user(&CreateUserRequest {
            email: "invitee@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let old = created.invite_url.unwrap();
    let fresh = admin.resend_invite(created.user.id).await.unwrap();
    assert!(!fresh.email_sent);
    assert_ne!(fresh.invite_url, old);
    let (email, old_token) = crate::passwords::link_parts(&old);
    let setup = |token: String| da_types::SetupRequest {
        email: email.clone(),
        token,
        password: "invitee-password-1".into(),
        name: None,
    };
    assert_eq!(
        refused(server.client().complete_setup(&setup(old_token)).await),
        (400, "Invalid or expired setup link".into())
    );
    let (_, token) = crate::passwords::link_parts(&fresh.invite_url);
    server.client().complete_setup(&setup(token)).await.unwrap();
    // Once they have a password there is nothing to invite them to.
    assert_eq!(
        refused(admin.resend_invite(created.user.id).await),
        (409, "User has already set a password".into())
    );
    let rows = admin
        .audit(&da_types::AuditParams {
            action_prefix: Some("user.invite".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn tokens_and_audit_rows_filter_by_part_of_an_email() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    server
        .create_user("someone.else@example.com", "analyst", "password-123")
        .await;
    let other = server
        .signed_in("someone.else@example.com", "password-123")
        .await;
    other
        .create_token(&da_types::CreateTokenRequest {
            name: "theirs".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .create_token(&da_types::CreateTokenRequest {
            name: "mine".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let by_owner = |owner: &str| da_types::TokenListParams {
        owner: Some(owner.into()),
        ..Default::default()
    };
    let (tokens, total) = admin.all_tokens(&by_owner("ELSE@")).await.unwrap();
    assert_eq!((tokens.len(), total), (1, 1));
    assert_eq!(tokens[0].item.name, "theirs");
    assert_eq!(admin.all_tokens(&by_owner("nobody")).await.unwrap().1, 0);
    let rows = admin
        .audit(&da_types::AuditParams {
            actor: Some("someone.".into()),
            action_prefix: Some("token.create".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].actor_email.as_deref(),
        Some("someone.else@example.com")
    );
}
