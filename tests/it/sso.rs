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

/// The `/login?error=` code a finished sign-in ended with, or `None` for a session.
fn error_code(location: &str) -> Option<String> {
    let query = location.strip_prefix("/login?")?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("error="))
        .map(str::to_owned)
}

async fn failures(server: &TestServer) -> Vec<(Option<String>, String)> {
    audit_rows(server, "auth.login_failed")
        .await
        .into_iter()
        .filter(|r| r.params["method"] == "oidc")
        .map(|r| {
            (
                r.params["email"].as_str().map(str::to_owned),
                r.params["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn without_settings_there_is_no_single_sign_on() {
    let server = TestServer::start().await;
    let providers: serde_json::Value = server
        .get("/auth/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(providers, json!({"password": true, "oidc": null}));
    for path in [
        "/auth/oidc/login?next=/tokens",
        "/auth/oidc/callback?code=x&state=y",
    ] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), 302, "{path}");
        assert_eq!(
            response.headers()["location"],
            "/login?error=sso_not_configured",
            "{path}"
        );
    }
}

#[tokio::test]
async fn start_up_refuses_half_a_configuration_and_sso_without_a_public_url() {
    let without_url = TestServer::builder()
        .env("DA_OIDC_ISSUER", "https://idp.example.com")
        .env("DA_OIDC_CLIENT_ID", "da")
        .env("DA_OIDC_CLIENT_SECRET", "secret")
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(without_url.contains("needs DA_PUBLIC_URL"), "{without_url}");
    let half = TestServer::builder()
        .env("DA_PUBLIC_URL", "http://127.0.0.1:9")
        .env("DA_OIDC_ISSUER", "https://idp.example.com")
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(half.contains("DA_OIDC_CLIENT_ID"), "{half}");
    let bad_role = TestServer::builder()
        .env("DA_PUBLIC_URL", "http://127.0.0.1:9")
        .env("DA_OIDC_ISSUER", "https://idp.example.com")
        .env("DA_OIDC_CLIENT_ID", "da")
        .env("DA_OIDC_CLIENT_SECRET", "secret")
        .env("DA_OIDC_DEFAULT_ROLE", "boss")
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(bad_role.contains("Unknown role: boss"), "{bad_role}");
    let plain_http = TestServer::builder()
        .env("DA_PUBLIC_URL", "http://127.0.0.1:9")
        .env("DA_OIDC_ISSUER", "http://idp.example.com")
        .env("DA_OIDC_CLIENT_ID", "da")
        .env("DA_OIDC_CLIENT_SECRET", "secret")
        .try_start()
        .await
        .err()
        .expect("refused");
    assert!(plain_http.contains("https"), "{plain_http}");
}

#[tokio::test]
async fn an_unreachable_provider_is_a_log_line_and_sso_failed_never_a_crash() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = TestServer::builder()
        .env("DA_PUBLIC_URL", "http://127.0.0.1:9")
        .env("DA_OIDC_ISSUER", &format!("http://127.0.0.1:{port}"))
        .env("DA_OIDC_CLIENT_ID", "da")
        .env("DA_OIDC_CLIENT_SECRET", "secret")
        .start()
        .await;
    let response = server.get("/auth/oidc/login").send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/login?error=sso_failed");
    assert_eq!(
        server.get("/api/health").send().await.unwrap().status(),
        200
    );
    let log = server.log();
    assert!(
        log.contains("cannot read the identity provider"),
        "a clear log line: {log}"
    );
}

#[tokio::test]
async fn every_refusal_of_the_contract_has_its_code_and_audit_row() {
    let accounts = json!({
        "nomail": {"name": "No Mail"},
        "unverified": {"email": "unverified@example.com", "email_verified": false},
        "outsider": {"email": "bob@other.example.org", "email_verified": true},
        "gone": {"email": "gone@example.com", "email_verified": true},
        "stranger": {"email": "stranger@example.com", "email_verified": true},
        "known": {"email": "known@example.com", "email_verified": true},
    });
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(accounts)
        .env("DA_OIDC_ALLOWED_DOMAINS", "Example.com, @corp.example")
        .env("DA_OIDC_AUTO_CREATE", "false")
        .start()
        .await;
    let admin = server.admin().await;
    let gone = server
        .create_user("gone@example.com", "viewer", "correct-horse-1")
        .await;
    admin.deactivate_user(gone.id).await.unwrap();
    server
        .create_user("known@example.com", "analyst", "correct-horse-1")
        .await;

    for (login, code) in [
        ("nomail", "no_email"),
        ("unverified", "no_email"),
        ("outsider", "domain_not_allowed"),
        ("gone", "deactivated"),
        ("stranger", "not_provisioned"),
    ] {
        let browser = Browser::new();
        let landed = browser.sign_in(&server, login, None).await;
        assert_eq!(
            error_code(&landed).as_deref(),
            Some(code),
            "{login}: {landed}"
        );
        assert!(browser.session(&server).is_none(), "{login}: no session");
    }
    // Auto-create off still lets known users in, and marks them as SSO users.
    let browser = Browser::new();
    assert_eq!(browser.sign_in(&server, "known", None).await, "/");
    let me = browser.session(&server).unwrap().me().await.unwrap();
    assert_eq!(
        (me.email.as_str(), me.role),
        ("known@example.com", Role::Analyst)
    );
    let known = admin
        .list_users(&da_types::UserListParams {
            email: Some("known@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .remove(0);
    assert!(known.sso);
    // …who keep their password (it was set by an admin), so it still works.
    server
        .signed_in("known@example.com", "correct-horse-1")
        .await;

    let mut audited = failures(&server).await;
    audited.sort();
    let mut expected = vec![
        (None, "no_email".to_owned()),
        (
            Some("unverified@example.com".to_owned()),
            "no_email".to_owned(),
        ),
        (
            Some("bob@other.example.org".to_owned()),
            "domain_not_allowed".to_owned(),
        ),
        (
            Some("gone@example.com".to_owned()),
            "deactivated".to_owned(),
        ),
        (
            Some("stranger@example.com".to_owned()),
            "not_provisioned".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(audited, expected);
    assert_eq!(
        admin
            .list_users(&da_types::UserListParams {
                email: Some("stranger@example.com".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .1,
        0,
        "nobody was created"
    );
}

#[tokio::test]
async fn a_tampered_state_another_browser_or_a_replay_never_gives_a_session() {
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(accounts()).start().await;

    // The state in the URL is not the one this browser's cookie holds.
    let browser = Browser::new();
    let callback = browser.sign_in_at_provider(&server, "ann", None).await;
    let tampered = callback.replacen("state=", "state=x", 1);
    let (_, landed) = browser.visit(&tampered).await;
    assert_eq!(error_code(&landed).as_deref(), Some("sso_failed"));
    assert!(browser.session(&server).is_none());

    // The callback reaches a browser that did not start the sign-in (no flow cookie).
    let starter = Browser::new();
    let callback = starter.sign_in_at_provider(&server, "ann", None).await;
    let (_, landed) = Browser::new().visit(&callback).await;
    assert_eq!(error_code(&landed).as_deref(), Some("sso_failed"));

    // A finished callback, replayed with its cookie, many times at once: no second session.
    let browser = Browser::new();
    let callback = browser.sign_in_at_provider(&server, "ann", None).await;
    let flow = browser.cookie("da_oidc").expect("the flow cookie");
    let mut replays = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (callback, flow) = (callback.clone(), flow.clone());
        let copy = Browser::new();
        copy.set_cookie("da_oidc", &flow);
        replays.spawn(async move {
            let (_, landed) = copy.visit(&callback).await;
            (landed, copy.cookie("access_token"))
        });
    }
    let outcomes = replays.join_all().await;
    let sessions: Vec<_> = outcomes.iter().filter(|(_, s)| s.is_some()).collect();
    assert_eq!(sessions.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|(_, s)| s.is_none())
            .all(|(landed, _)| error_code(landed).as_deref() == Some("sso_failed")),
        "{outcomes:?}"
    );
    // And once more, later, with the original browser.
    let (_, landed) = browser.visit(&callback).await;
    assert_eq!(error_code(&landed).as_deref(), Some("sso_failed"));
    let ann = server
        .admin()
        .await
        .list_users(&da_types::UserListParams {
            email: Some("ann@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .remove(0);
    let sessions = server.admin().await.user_sessions(ann.id).await.unwrap();
    assert_eq!(sessions.len(), 1, "one sign-in, one session");
}

#[tokio::test]
async fn a_cancelled_sign_in_comes_back_as_sso_failed() {
    let SsoServer { server, provider } = SsoSetup::new(accounts()).start().await;
    let browser = Browser::new();
    // Up to the provider's login form, then "Cancel" (the dev form's abort link).
    let response = browser.get(&server.url("/auth/oidc/login")).await;
    let mut url = response.headers()["location"].to_str().unwrap().to_owned();
    loop {
        let response = browser.get(&url).await;
        match response.headers().get("location") {
            Some(location) => {
                url = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(location.to_str().unwrap())
                    .unwrap()
                    .to_string();
            }
            None => break,
        }
    }
    assert!(url.starts_with(&provider.issuer), "at the provider: {url}");
    let mut next = format!("{url}/abort");
    let callback = loop {
        let response = browser.get(&next).await;
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let resolved = reqwest::Url::parse(&next)
            .unwrap()
            .join(&location)
            .unwrap()
            .to_string();
        if resolved.starts_with(&server.url("/auth/oidc/callback")) {
            break resolved;
        }
        next = resolved;
    };
    assert!(callback.contains("error=access_denied"), "{callback}");
    let (_, landed) = browser.visit(&callback).await;
    assert_eq!(error_code(&landed).as_deref(), Some("sso_failed"));
    assert_eq!(failures(&server).await, [(None, "sso_failed".to_owned())]);
}

/// Signs in against the misbehaving provider in `mode`; returns where da sent the browser and
/// the provider's counters.
async fn rogue_sign_in(mode: &str) -> (String, serde_json::Value, SsoServer) {
    let sso = SsoSetup::rogue(mode).start().await;
    let browser = Browser::new();
    let landed = browser.sign_in(&sso.server, "-", None).await;
    let stats = reqwest::get(format!("{}/stats", sso.provider.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (landed, stats, sso)
}

#[tokio::test]
async fn forged_or_wrong_id_tokens_are_refused() {
    let (landed, stats, _sso) = rogue_sign_in("ok").await;
    assert_eq!(landed, "/", "the rogue provider's honest mode works");
    assert_eq!(
        stats["pkce"], true,
        "the PKCE verifier fits the S256 challenge"
    );
    assert_eq!(
        stats["clientAuth"], true,
        "the client authenticated with HTTP Basic"
    );

    for mode in [
        "wrong-nonce",
        "foreign-key",
        "unknown-kid",
        "alg-none",
        "hs256",
        "wrong-aud",
        "expired",
        "token-error",
    ] {
        let (landed, _, sso) = rogue_sign_in(mode).await;
        assert_eq!(
            error_code(&landed).as_deref(),
            Some("sso_failed"),
            "{mode}: {landed}"
        );
        assert!(
            sso.server.log().contains("single sign-on refused"),
            "{mode}: the cause is logged"
        );
    }
    for (mode, code) in [("no-email", "no_email"), ("unverified", "no_email")] {
        let (landed, _, _sso) = rogue_sign_in(mode).await;
        assert_eq!(error_code(&landed).as_deref(), Some(code), "{mode}");
    }
}

#[tokio::test]
async fn an_unknown_key_refetches_the_keys_once() {
    // Keys rotated since da fetched them: one refetch finds the new key.
    let (landed, stats, _sso) = rogue_sign_in("rotate").await;
    assert_eq!(landed, "/");
    assert_eq!(stats["jwks"], 2, "{stats}");
    // A key that is never published: exactly one refetch per sign-in, then refused.
    let (landed, stats, _sso) = rogue_sign_in("unknown-kid").await;
    assert_eq!(error_code(&landed).as_deref(), Some("sso_failed"));
    assert_eq!(stats["jwks"], 2, "{stats}");
}

#[tokio::test]
async fn a_replayed_callback_is_refused_even_when_the_provider_would_take_the_code_again() {
    let sso = SsoSetup::rogue("ok")
        .provider_option("reusableCodes", json!(true))
        .start()
        .await;
    let browser = Browser::new();
    let callback = browser.sign_in_at_provider(&sso.server, "-", None).await;
    let flow = browser.cookie("da_oidc").unwrap();
    let (_, first) = browser.visit(&callback).await;
    assert_eq!(first, "/");
    let replay = Browser::new();
    replay.set_cookie("da_oidc", &flow);
    let (_, again) = replay.visit(&callback).await;
    assert_eq!(error_code(&again).as_deref(), Some("sso_failed"));
    assert!(replay.session(&sso.server).is_none());
    assert!(sso.server.log().contains("already used"));
}

async fn group(
    server: &TestServer,
    name: &str,
    role: Option<&str>,
    external: &[&str],
) -> uuid::Uuid {
    server
        .admin()
        .await
        .create_group(&CreateGroupRequest {
            name: name.into(),
            role: role.map(str::to_owned),
            external_ids: Some(external.iter().map(|s| (*s).to_owned()).collect()),
            ..Default::default()
        })
        .await
        .unwrap()
        .id
}

async fn memberships(
    server: &TestServer,
    email: &str,
) -> Vec<(String, da_types::MembershipSource)> {
    let admin = server.admin().await;
    let user = admin
        .list_users(&da_types::UserListParams {
            email: Some(email.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .remove(0);
    admin
        .user_groups(user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| (g.name, g.source))
        .collect()
}

/// Carl, one person whose identity provider reports different groups over time (`None`:
/// no such claim at all). Sign in as `carl`; `Provider::set_account` changes what he gets.
fn carl_with(claim: &str, groups: Option<serde_json::Value>) -> serde_json::Value {
    let mut account = json!({"email": "carl@example.com", "email_verified": true});
    if let Some(groups) = groups {
        account[claim] = groups;
    }
    account
}

fn changing_groups(claim: &str) -> serde_json::Value {
    json!({ "carl": carl_with(claim, Some(json!(["g-a", "g-b"]))) })
}

#[tokio::test]
async fn group_sync_replaces_sso_memberships_keeps_admin_ones_and_skips_a_missing_claim() {
    use da_types::MembershipSource::{Admin, Sso};
    let SsoServer { server, provider } = SsoSetup::new(changing_groups("groups")).start().await;
    group(&server, "A", None, &["g-a"]).await;
    group(&server, "B", None, &["g-b"]).await;
    let c = group(&server, "C", None, &["g-c"]).await;
    group(&server, "Admins", Some("admin"), &["g-admins"]).await;

    let browser = Browser::new();
    browser.sign_in(&server, "carl", None).await;
    assert_eq!(
        memberships(&server, "carl@example.com").await,
        [("A".into(), Sso), ("B".into(), Sso)]
    );
    // An admin adds carl to C by hand: single sign-on never touches it.
    let admin = server.admin().await;
    let carl = browser.session(&server).unwrap().me().await.unwrap();
    admin.add_group_member(c, carl.id).await.unwrap();
    // SSO-managed memberships cannot be removed by hand.
    let a = admin
        .list_groups(&da_types::GroupListParams {
            q: Some("A".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|g| g.name == "A")
        .unwrap();
    let refused = admin.remove_group_member(a.id, carl.id).await.unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("Membership is managed by single sign-on"),
        "{refused}"
    );

    provider
        .set_account(
            "carl",
            carl_with("groups", Some(json!(["g-b", "g-admins"]))),
        )
        .await;
    Browser::new().sign_in(&server, "carl", None).await;
    assert_eq!(
        memberships(&server, "carl@example.com").await,
        [
            ("Admins".into(), Sso),
            ("B".into(), Sso),
            ("C".into(), Admin)
        ]
    );
    // The claim absent: memberships stay as they are.
    provider
        .set_account("carl", carl_with("groups", None))
        .await;
    Browser::new().sign_in(&server, "carl", None).await;
    assert_eq!(memberships(&server, "carl@example.com").await.len(), 3);
    // The claim present but empty: every SSO membership goes, the admin's stays.
    provider
        .set_account("carl", carl_with("groups", Some(json!([]))))
        .await;
    Browser::new().sign_in(&server, "carl", None).await;
    assert_eq!(
        memberships(&server, "carl@example.com").await,
        [("C".into(), Admin)]
    );

    let syncs: Vec<(serde_json::Value, serde_json::Value)> = audit_rows(&server, "group.sso_sync")
        .await
        .into_iter()
        .rev()
        .map(|r| (r.params["added"].clone(), r.params["removed"].clone()))
        .collect();
    assert_eq!(
        syncs,
        [
            (json!(["A", "B"]), json!([])),
            (json!(["Admins"]), json!(["A"])),
            (json!([]), json!(["Admins", "B"])),
        ],
        "one row per change, none when nothing changed"
    );
}

#[tokio::test]
async fn a_token_made_before_an_sso_group_grants_admin_follows_the_group_at_once() {
    let SsoServer { server, provider } = SsoSetup::new(changing_groups("groups")).start().await;
    group(&server, "Admins", Some("admin"), &["g-admins"]).await;
    let browser = Browser::new();
    browser.sign_in(&server, "carl", None).await;
    let session = browser.session(&server).unwrap();
    let pat = session
        .create_token(&da_types::CreateTokenRequest {
            name: "ci".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .token;
    let by_pat = server.client().with_token(pat);
    let users = da_types::UserListParams::default();
    assert_eq!(
        by_pat.list_users(&users).await.unwrap_err().status(),
        Some(403)
    );

    // Signing in again with the admin group: the same token is an admin's now…
    provider
        .set_account(
            "carl",
            carl_with("groups", Some(json!(["g-b", "g-admins"]))),
        )
        .await;
    Browser::new().sign_in(&server, "carl", None).await;
    assert!(by_pat.list_users(&users).await.is_ok());
    let me = by_pat.me().await.unwrap();
    assert_eq!((me.role, me.effective_role), (Role::Viewer, Role::Admin));
    // …and not any more once the provider drops the group.
    provider
        .set_account("carl", carl_with("groups", Some(json!([]))))
        .await;
    Browser::new().sign_in(&server, "carl", None).await;
    assert_eq!(
        by_pat.list_users(&users).await.unwrap_err().status(),
        Some(403)
    );
}

#[tokio::test]
async fn claims_can_come_from_userinfo_and_groups_from_a_custom_claim() {
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(changing_groups("roles"))
        .provider_option("claimsInIdToken", json!(false))
        .env("DA_OIDC_GROUPS_CLAIM", "roles")
        .env("DA_OIDC_DEFAULT_ROLE", "analyst")
        .start()
        .await;
    group(&server, "B", Some("km_admin"), &["g-b"]).await;
    let browser = Browser::new();
    assert_eq!(
        browser.sign_in(&server, "carl", Some("/profile")).await,
        "/profile"
    );
    let me = browser.session(&server).unwrap().me().await.unwrap();
    assert_eq!(me.email, "carl@example.com", "the email came from UserInfo");
    assert_eq!((me.role, me.effective_role), (Role::Analyst, Role::KmAdmin));
}

#[tokio::test]
async fn the_same_email_under_another_subject_is_someone_else() {
    use da_types::MembershipSource::Sso;
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(json!({
        "ann": {"email": "ann@example.com", "email_verified": true, "groups": ["g-analysts"]},
        // The provider gave Ann's address to someone else (a new hire with her old alias).
        "impostor": {"email": "ann@example.com", "email_verified": true, "groups": []},
    }))
    .start()
    .await;
    group(&server, "Analysts", Some("analyst"), &["g-analysts"]).await;
    let browser = Browser::new();
    assert_eq!(browser.sign_in(&server, "ann", None).await, "/");

    let other = Browser::new();
    let landed = other.sign_in(&server, "impostor", None).await;
    assert_eq!(
        error_code(&landed).as_deref(),
        Some("sso_failed"),
        "{landed}"
    );
    assert!(other.session(&server).is_none(), "no session");
    // Nothing of Ann's changed: her SSO membership stays (the impostor's claim is empty).
    assert_eq!(
        memberships(&server, "ann@example.com").await,
        vec![("Analysts".to_owned(), Sso)]
    );
    assert!(
        failures(&server)
            .await
            .contains(&(Some("ann@example.com".into()), "sso_failed".into()))
    );
    // Ann herself still gets in.
    assert_eq!(Browser::new().sign_in(&server, "ann", None).await, "/");
}

#[tokio::test]
async fn an_sso_account_without_a_password_gets_no_reset_link_by_mail() {
    let sink = da_integration_tests::smtp::SmtpSink::start().await;
    let SsoServer {
        server,
        provider: _p,
    } = SsoSetup::new(accounts())
        .env("DA_SMTP_URL", &sink.url)
        .env("DA_SMTP_FROM", "da <noreply@da.example>")
        .start()
        .await;
    Browser::new().sign_in(&server, "ann", None).await;
    let asked = server
        .client()
        .request_password_reset("ann@example.com")
        .await
        .unwrap();
    assert_eq!(
        asked.message, "If this email is registered, a reset link has been sent.",
        "the same answer as for everyone"
    );
    // A reset asked for afterwards by a password account arrives; Ann's never did.
    server
        .client()
        .request_password_reset(ADMIN_EMAIL)
        .await
        .unwrap();
    sink.wait_for(ADMIN_EMAIL).await;
    assert!(
        sink.mails()
            .iter()
            .all(|m| !m.to.iter().any(|t| t.contains("ann@"))),
        "no link that would let Ann in past the identity provider"
    );
}
