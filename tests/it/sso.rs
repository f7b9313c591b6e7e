//! Single sign-on (`API.md` §11) against a real OpenID provider (`oidc-provider`, driven through
//! its login form), and against a misbehaving one for what a real one never does.

use da_integration_tests::oidc::{Browser, SsoServer, SsoSetup};
use da_integration_tests::{ADMIN_EMAIL, TestServer};
use da_types::{AuditParams, CreateGroupRequest, Role};
use serde_json::json;

fn accounts() -> serde_json::Value {
    json!({
        "ann": {"email": "Ann@Example.com", "email_verified": true, "name": "Ann Analyst",
                "groups": ["g-analysts", "g-unmapped"]},
    })
}

async fn audit_rows(server: &TestServer, prefix: &str) -> Vec<da_types::AuditRow> {
    server
        .admin()
        .await
        .audit(&AuditParams {
            action_prefix: Some(prefix.into()),
            limit: Some("500".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .rows
}

#[tokio::test]
async fn a_new_user_signs_in_gets_their_groups_and_lands_where_they_wanted() {
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(accounts()).start().await;
    let admin = server.admin().await;
    let analysts = admin
        .create_group(&CreateGroupRequest {
            name: "Analysts".into(),
            role: Some("analyst".into()),
            external_ids: Some(vec!["g-analysts".into()]),
            ..Default::default()
        })
        .await
        .unwrap();

    let providers: serde_json::Value = server
        .get("/auth/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        providers,
        json!({"password": true, "oidc": {"name": "Test IdP", "login_path": "/auth/oidc/login"}})
    );

    let browser = Browser::new();
    let landed = browser.sign_in(&server, "ann", Some("/tokens")).await;
    assert_eq!(landed, "/tokens");
    assert_eq!(
        browser.cookie("da_oidc"),
        None,
        "the flow cookie is cleared"
    );
    let me = browser
        .session(&server)
        .expect("a session")
        .me()
        .await
        .unwrap();
    assert_eq!(me.email, "ann@example.com");
    assert_eq!(me.name, "Ann Analyst");
    assert_eq!((me.role, me.effective_role), (Role::Viewer, Role::Analyst));
    assert_eq!(me.groups.len(), 1);
    assert_eq!(me.groups[0].id, analysts.id);

    let user = admin
        .list_users(&da_types::UserListParams {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .remove(0);
    assert!(user.sso);
    assert_eq!(user.effective_role, Role::Analyst);
    let logins = audit_rows(&server, "auth.login").await;
    let login = logins
        .iter()
        .find(|r| r.action == "auth.login" && r.actor_email.as_deref() == Some("ann@example.com"))
        .expect("an auth.login row");
    assert_eq!(login.params["method"], "oidc");
    let sync = audit_rows(&server, "group.sso_sync").await;
    assert_eq!(sync.len(), 1);
    assert_eq!(sync[0].params["added"], json!(["Analysts"]));
    assert_eq!(sync[0].params["removed"], json!([]));

    // No password: the password login says how this account signs in.
    let refused = server
        .post("/auth/token")
        .json(&json!({"email": "ann@example.com", "password": "whatever-it-is"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["detail"], "This account signs in with single sign-on.");
    let _ = ADMIN_EMAIL;
}
