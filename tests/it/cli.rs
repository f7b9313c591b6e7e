//! The `da` binary against a real server: every command's output, exit code and files.

use da_integration_tests::cli::Da;
use da_integration_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, TestServer};

/// A `da` logged in as the default admin.
async fn admin_da(server: &TestServer) -> Da {
    let da = Da::new();
    da.login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .ok();
    da
}

fn is_pat(text: &str) -> bool {
    text.len() == 45
        && text.starts_with("da_pat_")
        && text[7..].bytes().all(|b| b.is_ascii_alphanumeric())
}

#[tokio::test]
async fn version_help_and_usage_errors_need_no_server() {
    let da = Da::new();
    let version = da.run(&["--version"]).await;
    version.ok();
    assert_eq!(
        version.stdout.trim(),
        format!("da {}", env!("CARGO_PKG_VERSION"))
    );
    da.run(&["--help"]).await.ok();
    da.run(&[]).await.expect_code(2);
    da.run(&["frobnicate"]).await.expect_code(2);
    da.run(&["auth", "token", "create", "--name", "x", "--ttl", "3y"])
        .await
        .expect_code(2);
    let no_server = da.run(&["auth", "whoami"]).await;
    no_server.expect_code(2);
    assert!(
        no_server.stderr.contains("no server configured"),
        "{no_server:?}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let out = da.run(&["completions", shell]).await;
        out.ok();
        assert!(out.stdout.contains("auth"), "{shell}");
    }
}

#[tokio::test]
async fn login_stores_a_private_session_and_whoami_reports_it() {
    let server = TestServer::start().await;
    let da = Da::new();
    let out = da
        .login(&server.base_url, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        format!("Logged in to {} as {ADMIN_EMAIL} (admin)", server.base_url)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |name: &str| {
            std::fs::metadata(da.config_dir().join(name))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("credentials.toml"), 0o600);
        assert_eq!(mode("config.toml"), 0o600);
        assert_eq!(mode(""), 0o700);
    }
    assert_eq!(
        da.config()["server"].as_str(),
        Some(server.base_url.as_str())
    );
    let stored = &da.credentials()[&server.base_url];
    assert_eq!(stored["kind"].as_str(), Some("session"));
    assert_eq!(stored["email"].as_str(), Some(ADMIN_EMAIL));

    let whoami = da.run(&["auth", "whoami"]).await;
    whoami.ok();
    for expected in [ADMIN_EMAIL, "admin", &server.base_url, "session"] {
        assert!(whoami.stdout.contains(expected), "{expected}: {whoami:?}");
    }
    let json = da.run(&["auth", "whoami", "--json"]).await.ok().json();
    assert_eq!(json["email"], ADMIN_EMAIL);
    assert_eq!(json["role"], "admin");
    assert_eq!(json["server"], server.base_url);
    assert_eq!(json["credential"]["kind"], "session");
    assert_eq!(json["credential"]["source"], "stored");
    assert!(json["credential"]["expires_at"].is_string());
}

#[tokio::test]
async fn a_failed_login_saves_nothing() {
    let server = TestServer::start().await;
    let da = Da::new();
    let out = da
        .login(&server.base_url, ADMIN_EMAIL, "wrong-password")
        .await;
    out.expect_code(3);
    assert!(out.stderr.contains("Invalid email or password"), "{out:?}");
    assert!(!da.config_dir().join("config.toml").exists());
    assert!(!da.config_dir().join("credentials.toml").exists());

    // Without a terminal and without --password-stdin there is nobody to ask.
    let out = da
        .run(&[
            "login",
            "--server",
            &server.base_url,
            "--email",
            ADMIN_EMAIL,
        ])
        .await;
    out.expect_code(2);
    assert!(out.stderr.contains("--password-stdin"), "{out:?}");
}

#[tokio::test]
async fn logout_revokes_the_session_on_the_server() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;
    let jwt = da.credentials()[&server.base_url]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = da.run(&["logout"]).await;
    out.ok();
    assert!(out.stderr.contains("Logged out"), "{out:?}");
    let err = server.client().with_token(jwt).me().await.unwrap_err();
    assert_eq!(err.detail(), Some("Session revoked"));
    assert!(da.credentials().get(&server.base_url).is_none());
    let again = da.run(&["logout"]).await;
    again.expect_code(1);
    assert!(again.stderr.contains("not logged in"), "{again:?}");
    let whoami = da.run(&["auth", "whoami"]).await;
    whoami.expect_code(3);
    assert!(whoami.stderr.contains("da login"), "{whoami:?}");
}

#[tokio::test]
async fn tokens_are_created_listed_and_revoked() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;

    let created = da
        .run(&[
            "auth", "token", "create", "--name", "ci", "--ttl", "30d", "--json",
        ])
        .await
        .ok()
        .json();
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(is_pat(&secret));
    assert_eq!(created["name"], "ci");
    assert_eq!(created["status"], "active");
    let expires: chrono::DateTime<chrono::Utc> =
        created["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((29.9..=30.1).contains(&days), "{days}");

    let raw = da
        .run(&[
            "auth", "token", "create", "--name", "ci", "--ttl", "12h", "--role", "viewer", "--raw",
        ])
        .await;
    raw.ok();
    let second = raw.stdout.trim().to_owned();
    assert!(is_pat(&second), "--raw prints only the token: {raw:?}");

    let human = da
        .run(&[
            "auth", "token", "create", "--name", "laptop", "--ttl", "never",
        ])
        .await;
    human.ok();
    assert!(
        human.stdout.contains("export DA_TOKEN=da_pat_"),
        "{human:?}"
    );
    assert!(human.stdout.contains("never expires"), "{human:?}");

    let list = da
        .run(&["auth", "token", "list", "--json"])
        .await
        .ok()
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(
        list.iter().all(|t| t.get("token").is_none()),
        "no secrets in listings"
    );
    let table = da.run(&["auth", "token", "list"]).await;
    table.ok();
    let header = table.stdout.lines().next().unwrap();
    for column in [
        "ID",
        "NAME",
        "PREFIX",
        "ROLE",
        "STATUS",
        "EXPIRES",
        "LAST USED",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert_eq!(table.stdout.lines().count(), 4);

    // Two active tokens named "ci": the name is ambiguous, and both are listed.
    let ambiguous = da.run(&["auth", "token", "revoke", "ci"]).await;
    ambiguous.expect_code(2);
    assert!(ambiguous.stderr.contains(&secret[..12]), "{ambiguous:?}");
    assert!(ambiguous.stderr.contains(&second[..12]), "{ambiguous:?}");

    // By prefix; then the token fails on the very next request, with a hint.
    da.run(&["auth", "token", "revoke", &secret[..12]])
        .await
        .ok();
    let revoked = da.run(&["auth", "whoami", "--token", &secret]).await;
    revoked.expect_code(3);
    assert!(revoked.stderr.contains("Token revoked"), "{revoked:?}");
    assert!(revoked.stderr.contains("hint:"), "{revoked:?}");

    // Now "ci" names one active token.
    da.run(&["auth", "token", "revoke", "ci"]).await.ok();
    let missing = da.run(&["auth", "token", "revoke", "nope"]).await;
    missing.expect_code(4);
}

#[tokio::test]
async fn a_pat_cannot_create_tokens_and_says_what_to_do() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;
    let pat = da
        .run(&["auth", "token", "create", "--name", "ci", "--raw"])
        .await
        .ok()
        .stdout
        .trim()
        .to_owned();
    let out = da
        .run_with(
            &["auth", "token", "create", "--name", "x"],
            None,
            &[("DA_TOKEN", &pat)],
        )
        .await;
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("This endpoint requires an interactive session, not a PAT"),
        "{out:?}"
    );
    assert!(out.stderr.contains("da login"), "{out:?}");
}

#[tokio::test]
async fn credentials_and_servers_follow_the_precedence_rules() {
    let server = TestServer::start().await;
    server
        .create_user("viewer@example.com", "viewer", "viewer-password-1")
        .await;
    server
        .create_user("analyst@example.com", "analyst", "analyst-password-1")
        .await;
    let mut da = admin_da(&server).await;
    let pat_of = |email: &'static str, password: &'static str| {
        let server = &server;
        async move {
            let viewer = Da::new();
            viewer.login(&server.base_url, email, password).await.ok();
            viewer
                .run(&["auth", "token", "create", "--name", "t", "--raw"])
                .await
                .ok()
                .stdout
                .trim()
                .to_owned()
        }
    };
    let viewer_pat = pat_of("viewer@example.com", "viewer-password-1").await;
    let analyst_pat = pat_of("analyst@example.com", "analyst-password-1").await;

    // DA_TOKEN beats the stored session, and says so once.
    da.env("DA_TOKEN", &viewer_pat);
    let out = da.run(&["auth", "whoami", "--json"]).await;
    let json = out.ok().json();
    assert_eq!(json["email"], "viewer@example.com");
    assert_eq!(json["credential"]["kind"], "pat");
    assert_eq!(json["credential"]["source"], "env");
    assert_eq!(out.stderr.matches("DA_TOKEN is set").count(), 1, "{out:?}");
    // --token beats DA_TOKEN.
    let json = da
        .run(&["auth", "whoami", "--json", "--token", &analyst_pat])
        .await
        .ok()
        .json();
    assert_eq!(json["email"], "analyst@example.com");
    assert_eq!(json["credential"]["source"], "flag");
    da.remove_env("DA_TOKEN");

    // DA_SERVER beats config.toml; --server beats DA_SERVER.
    let dead = "http://127.0.0.1:9";
    da.run(&["config", "set", "server", dead]).await.ok();
    let out = da.run(&["auth", "whoami", "--token", &viewer_pat]).await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("cannot reach http://127.0.0.1:9"),
        "{out:?}"
    );
    let out = da
        .run_with(
            &["auth", "whoami", "--token", &viewer_pat],
            None,
            &[("DA_SERVER", &server.base_url)],
        )
        .await;
    out.ok();
    let out = da
        .run_with(
            &["auth", "whoami", "--server", &server.base_url],
            None,
            &[("DA_SERVER", dead)],
        )
        .await;
    out.ok();
    assert!(
        out.stdout.contains(ADMIN_EMAIL),
        "the stored session of --server: {out:?}"
    );
}

#[tokio::test]
async fn import_token_verifies_before_it_replaces_anything() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;
    let pat = da
        .run(&["auth", "token", "create", "--name", "laptop", "--raw"])
        .await
        .ok()
        .stdout
        .trim()
        .to_owned();

    let bad = format!("{}x", &pat[..44]);
    let out = da.run_with_stdin(&["auth", "import-token"], &bad).await;
    out.expect_code(3);
    assert!(out.stderr.contains("Invalid or expired token"), "{out:?}");
    let kind = da.credentials()[&server.base_url]["kind"].clone();
    assert_eq!(kind.as_str(), Some("session"), "the session is kept");

    let out = da
        .run_with_stdin(&["auth", "import-token"], &format!("{pat}\n"))
        .await;
    out.ok();
    assert!(out.stdout.contains("personal access token"), "{out:?}");
    let stored = &da.credentials()[&server.base_url];
    assert_eq!(stored["kind"].as_str(), Some("pat"));
    assert_eq!(stored["token"].as_str(), Some(pat.as_str()));
    let whoami = da.run(&["auth", "whoami"]).await;
    whoami.ok();
    assert!(
        whoami.stdout.contains("personal access token"),
        "{whoami:?}"
    );
    assert!(
        whoami.stdout.contains("in 3 months"),
        "PAT expiry shown: {whoami:?}"
    );

    // Also with --token and --server, into a fresh config: the server becomes the default.
    let fresh = Da::new();
    fresh
        .run(&[
            "auth",
            "import-token",
            "--token",
            &pat,
            "--server",
            &server.base_url,
        ])
        .await
        .ok();
    assert_eq!(
        fresh.config()["server"].as_str(),
        Some(server.base_url.as_str())
    );
    fresh.run(&["auth", "token", "list"]).await.ok();
}

#[tokio::test]
async fn admins_manage_users_by_email_or_id() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;

    let created = da
        .run(&[
            "admin",
            "users",
            "add",
            "new@example.com",
            "--name",
            "New Person",
            "--role",
            "analyst",
        ])
        .await;
    created.ok();
    assert!(
        created.stdout.contains("Created new@example.com (analyst)"),
        "{created:?}"
    );
    assert!(
        created
            .stdout
            .contains("/setup?email=new%40example.com&token="),
        "{created:?}"
    );
    let dup = da.run(&["admin", "users", "add", "new@example.com"]).await;
    dup.expect_code(1);
    assert!(
        dup.stderr.contains("User with this email already exists"),
        "{dup:?}"
    );

    let users = da
        .run(&["admin", "users", "list", "--json"])
        .await
        .ok()
        .json();
    let new = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "new@example.com")
        .unwrap()
        .clone();
    let id = new["id"].as_str().unwrap();
    let table = da.run(&["admin", "users", "list", "--search", "new"]).await;
    table.ok();
    assert_eq!(table.stdout.lines().count(), 2, "{table:?}");
    assert!(table.stdout.contains("New Person"));

    let out = da
        .run(&["admin", "users", "set-role", "new@example.com", "viewer"])
        .await;
    out.ok();
    assert!(
        out.stdout.contains("new@example.com is now viewer"),
        "{out:?}"
    );
    let out = da
        .run(&["admin", "users", "set-role", id, "km_admin", "--json"])
        .await;
    assert_eq!(out.ok().json()["role"], "km_admin");

    da.run(&["admin", "users", "deactivate", "new@example.com"])
        .await
        .ok();
    let inactive = da
        .run(&["admin", "users", "list", "--inactive", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(inactive.as_array().unwrap().len(), 1);
    assert_eq!(inactive[0]["email"], "new@example.com");
    da.run(&["admin", "users", "activate", id]).await.ok();

    let reset = da
        .run(&["admin", "users", "reset-password", "new@example.com"])
        .await;
    reset.ok();
    assert!(reset.stdout.contains("/reset-password?email="), "{reset:?}");

    da.run_with_stdin(
        &[
            "admin",
            "users",
            "set-password",
            "new@example.com",
            "--password-stdin",
        ],
        "a-brand-new-password\n",
    )
    .await
    .ok();
    server
        .client()
        .login("new@example.com", "a-brand-new-password")
        .await
        .expect("the new password works");

    // Safeguards come back as the server's sentence.
    let out = da.run(&["admin", "users", "deactivate", ADMIN_EMAIL]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("Cannot deactivate yourself"), "{out:?}");

    let unknown = da
        .run(&["admin", "users", "activate", "ghost@example.com"])
        .await;
    unknown.expect_code(4);
    let unknown = da
        .run(&[
            "admin",
            "users",
            "activate",
            "00000000-0000-0000-0000-000000000000",
        ])
        .await;
    unknown.expect_code(4);
    assert!(unknown.stderr.contains("User not found"), "{unknown:?}");
    da.run(&["admin", "users", "activate", "not-a-user"])
        .await
        .expect_code(2);

    // No terminal to confirm: refuse without --yes.
    let out = da
        .run(&["admin", "users", "delete", "new@example.com"])
        .await;
    out.expect_code(2);
    assert!(out.stderr.contains("--yes"), "{out:?}");
    da.run(&["admin", "users", "delete", "new@example.com", "--yes"])
        .await
        .ok();
    da.run(&["admin", "users", "delete", "new@example.com", "--yes"])
        .await
        .expect_code(4);
}

#[tokio::test]
async fn non_admins_are_refused_with_exit_code_3() {
    let server = TestServer::start().await;
    server
        .create_user("analyst@example.com", "analyst", "analyst-password-1")
        .await;
    let da = Da::new();
    da.login(
        &server.base_url,
        "analyst@example.com",
        "analyst-password-1",
    )
    .await
    .ok();
    for args in [
        &["admin", "users", "list"][..],
        &["admin", "tokens", "list"],
        &["admin", "audit"],
    ] {
        let out = da.run(args).await;
        out.expect_code(3);
        assert!(
            out.stderr.contains("Admin access required"),
            "{args:?}: {out:?}"
        );
    }
}

#[tokio::test]
async fn admins_see_every_token_and_the_audit_log() {
    let server = TestServer::start().await;
    server
        .create_user("analyst@example.com", "analyst", "analyst-password-1")
        .await;
    let analyst = Da::new();
    analyst
        .login(
            &server.base_url,
            "analyst@example.com",
            "analyst-password-1",
        )
        .await
        .ok();
    let pat = analyst
        .run(&["auth", "token", "create", "--name", "nightly", "--raw"])
        .await
        .ok()
        .stdout
        .trim()
        .to_owned();
    let da = admin_da(&server).await;

    let tokens = da
        .run(&[
            "admin",
            "tokens",
            "list",
            "--user",
            "analyst@example.com",
            "--json",
        ])
        .await
        .ok()
        .json();
    let tokens = tokens.as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0]["user_email"], "analyst@example.com");
    assert_eq!(tokens[0]["name"], "nightly");
    let id = tokens[0]["id"].as_str().unwrap().to_owned();
    let table = da
        .run(&["admin", "tokens", "list", "--status", "active"])
        .await;
    table.ok();
    assert!(table.stdout.contains("OWNER") && table.stdout.contains("analyst@example.com"));

    da.run(&["admin", "tokens", "revoke", &id]).await.ok();
    da.run(&["admin", "tokens", "revoke", &id]).await.ok(); // revoking twice is fine
    da.run(&["admin", "tokens", "revoke", "nope"])
        .await
        .expect_code(2);
    let out = analyst.run(&["auth", "whoami", "--token", &pat]).await;
    out.expect_code(3);
    assert!(out.stderr.contains("Token revoked"), "{out:?}");
    let revoked = da
        .run(&["admin", "tokens", "list", "--status", "revoked", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(revoked.as_array().unwrap().len(), 1);

    let audit = da
        .run(&["admin", "audit", "--action", "token.", "--json"])
        .await
        .ok()
        .json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["token.admin_revoke", "token.create"]);
    let by_actor = da
        .run(&[
            "admin",
            "audit",
            "--actor",
            "analyst@example.com",
            "--limit",
            "1",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(by_actor.as_array().unwrap().len(), 1);
    assert_eq!(by_actor[0]["actor_email"], "analyst@example.com");
    let table = da.run(&["admin", "audit", "--limit", "3"]).await;
    table.ok();
    assert_eq!(table.stdout.lines().count(), 4, "{table:?}");
}

#[tokio::test]
async fn config_get_and_set_keep_other_keys() {
    let da = Da::new();
    let out = da.run(&["config", "get", "server"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("not set"), "{out:?}");
    da.run(&["config", "set", "server", "not a url"])
        .await
        .expect_code(2);
    da.run(&["config", "get", "colour"]).await.expect_code(2);

    std::fs::create_dir_all(da.config_dir()).unwrap();
    std::fs::write(
        da.config_dir().join("config.toml"),
        "editor = \"vim\"\n[aliases]\nw = \"auth whoami\"\n",
    )
    .unwrap();
    da.run(&["config", "set", "server", "https://da.example.com/"])
        .await
        .ok();
    let out = da.run(&["config", "get", "server"]).await;
    assert_eq!(out.ok().stdout.trim(), "https://da.example.com");
    let config = da.config();
    assert_eq!(config["editor"].as_str(), Some("vim"));
    assert_eq!(config["aliases"]["w"].as_str(), Some("auth whoami"));
    let json = da
        .run(&["config", "get", "server", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["server"], "https://da.example.com");
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_failure() {
    let da = Da::new();
    let out = da
        .run(&[
            "auth",
            "whoami",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "da_pat_x",
        ])
        .await;
    out.expect_code(1);
    assert!(
        out.stderr.contains("cannot reach http://127.0.0.1:9"),
        "{out:?}"
    );
    assert!(out.stderr.contains("Connection refused"), "{out:?}");
    let out = da
        .run_with_stdin(
            &[
                "login",
                "--server",
                "http://127.0.0.1:9",
                "--email",
                "a@b.c",
                "--password-stdin",
            ],
            "pw\n",
        )
        .await;
    out.expect_code(1);
    assert!(
        !da.config_dir().join("config.toml").exists(),
        "nothing saved"
    );
}

#[tokio::test]
async fn prompts_on_a_terminal_hide_passwords() {
    let server = TestServer::start().await;
    let da = Da::new();
    let out = da
        .run_in_terminal(
            &["login", "--server", &server.base_url],
            &[
                ("sign in with a browser): ", ADMIN_EMAIL),
                ("Password for admin@example.com: ", ADMIN_PASSWORD),
            ],
        )
        .await;
    out.ok();
    assert!(
        out.stdout
            .contains("Email (or press Enter to sign in with a browser): "),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("Password for {ADMIN_EMAIL}: ")),
        "{out:?}"
    );
    assert!(
        !out.stdout.contains(ADMIN_PASSWORD),
        "the password is not echoed: {out:?}"
    );
    assert!(out.stdout.contains("Logged in to"), "{out:?}");

    server
        .create_user("someone@example.com", "viewer", "first-password-1")
        .await;
    // set-password asks twice; different answers change nothing.
    let out = da
        .run_in_terminal(
            &["admin", "users", "set-password", "someone@example.com"],
            &[
                (
                    "New password for someone@example.com: ",
                    "second-password-1",
                ),
                ("Repeat it: ", "typo-password-1"),
            ],
        )
        .await;
    out.expect_code(1);
    assert!(out.stdout.contains("the two passwords differ"), "{out:?}");
    let out = da
        .run_in_terminal(
            &["admin", "users", "set-password", "someone@example.com"],
            &[
                (
                    "New password for someone@example.com: ",
                    "second-password-1",
                ),
                ("Repeat it: ", "second-password-1"),
            ],
        )
        .await;
    out.ok();
    assert!(!out.stdout.contains("second-password-1"), "{out:?}");
    server
        .client()
        .login("someone@example.com", "second-password-1")
        .await
        .expect("the new password works");

    // delete asks for confirmation on a terminal; anything but yes keeps the user.
    let out = da
        .run_in_terminal(
            &["admin", "users", "delete", "someone@example.com"],
            &[("[y/N] ", "n")],
        )
        .await;
    out.expect_code(1);
    let out = da
        .run_in_terminal(
            &["admin", "users", "delete", "someone@example.com"],
            &[("[y/N] ", "y")],
        )
        .await;
    out.ok();
    assert!(
        out.stdout.contains("Deleted someone@example.com"),
        "{out:?}"
    );
}

#[tokio::test]
async fn logout_while_the_server_is_down_forgets_locally_and_says_what_remains() {
    let server = TestServer::start().await;
    let da = admin_da(&server).await;
    let base_url = server.base_url.clone();
    let _data = server.stop().await;
    let out = da.run(&["logout"]).await;
    out.expect_code(1);
    assert!(out.stderr.contains("cannot reach"), "{out:?}");
    assert!(out.stderr.contains("stays valid until"), "{out:?}");
    assert!(da.credentials().get(&base_url).is_none(), "forgotten here");
}

#[tokio::test]
async fn admins_manage_groups_by_name_or_id() {
    let server = TestServer::start().await;
    server
        .create_user("ana@example.com", "viewer", "correct-horse-1")
        .await;
    let da = admin_da(&server).await;

    let created = da
        .run(&[
            "admin",
            "groups",
            "create",
            "Data Team",
            "--description",
            "Queries all day",
            "--role",
            "analyst",
            "--external-id",
            "data@example.com",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(created["role"], "analyst");
    assert_eq!(created["external_ids"][0], "data@example.com");
    let id = created["id"].as_str().unwrap().to_owned();
    // A second group whose name contains the first's: names are matched whole.
    da.run(&["admin", "groups", "create", "Data Team Leads"])
        .await
        .ok();
    let dup = da.run(&["admin", "groups", "create", "data team"]).await;
    dup.expect_code(1);
    assert!(
        dup.stderr.contains("Group with this name already exists"),
        "{dup:?}"
    );

    let table = da.run(&["admin", "groups", "list"]).await;
    table.ok();
    assert_eq!(table.stdout.lines().count(), 3, "{table:?}");
    assert!(table.stdout.contains("data@example.com"), "{table:?}");

    let added = da
        .run(&[
            "admin",
            "groups",
            "add-member",
            "DATA TEAM",
            "ana@example.com",
        ])
        .await;
    added.ok();
    assert!(
        added
            .stdout
            .contains("ana@example.com is in the group Data Team"),
        "{added:?}"
    );
    let members = da
        .run(&["admin", "groups", "members", &id, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(members[0]["email"], "ana@example.com");
    assert_eq!(members[0]["source"], "admin");
    let users = da.run(&["admin", "users", "list", "--search", "ana"]).await;
    users.ok();
    assert!(
        users.stdout.contains("analyst (own role viewer)"),
        "{users:?}"
    );

    let shown = da.run(&["admin", "groups", "show", "Data Team"]).await;
    shown.ok();
    for expected in [
        "Queries all day",
        "grants role:",
        "analyst",
        "ana@example.com",
    ] {
        assert!(shown.stdout.contains(expected), "{expected}: {shown:?}");
    }

    let updated = da
        .run(&[
            "admin",
            "groups",
            "update",
            "Data Team",
            "--no-role",
            "--no-external-ids",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(updated["role"], serde_json::Value::Null);
    assert_eq!(updated["external_ids"], serde_json::json!([]));
    let nothing = da.run(&["admin", "groups", "update", "Data Team"]).await;
    nothing.expect_code(2);
    let clash = da
        .run(&[
            "admin",
            "groups",
            "update",
            "Data Team",
            "--role",
            "admin",
            "--no-role",
        ])
        .await;
    clash.expect_code(2);

    da.run(&[
        "admin",
        "groups",
        "remove-member",
        "Data Team",
        "ana@example.com",
    ])
    .await
    .ok();
    let again = da
        .run(&[
            "admin",
            "groups",
            "remove-member",
            "Data Team",
            "ana@example.com",
        ])
        .await;
    again.expect_code(4);
    assert!(again.stderr.contains("Membership not found"), "{again:?}");
    let missing = da.run(&["admin", "groups", "show", "Nobody"]).await;
    missing.expect_code(4);
    assert!(missing.stderr.contains("no group named"), "{missing:?}");

    let refused = da.run(&["admin", "groups", "delete", "Data Team"]).await;
    refused.expect_code(2);
    assert!(refused.stderr.contains("--yes"), "{refused:?}");
    da.run(&["admin", "groups", "delete", "Data Team", "--yes"])
        .await
        .ok();
    let left = da
        .run(&["admin", "groups", "list", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["name"], "Data Team Leads");
}

fn fixture_path(name: &str) -> String {
    da_integration_tests::fixture_path(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn admins_publish_datasets_and_analysts_query_and_sync_them() {
    let server = TestServer::start().await;
    server
        .create_user("ana@example.com", "viewer", "correct-horse-1")
        .await;
    let admin = admin_da(&server).await;

    let put = admin
        .run(&[
            "admin",
            "datasets",
            "put",
            "sales",
            &fixture_path("sales.parquet"),
            "--description",
            "Orders by region",
        ])
        .await;
    put.ok();
    assert!(
        put.stdout.starts_with("Created sales (1000 rows, "),
        "{put:?}"
    );
    let people = admin
        .run(&[
            "admin",
            "datasets",
            "put",
            "people",
            &fixture_path("people.csv"),
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(people["format"], "csv");
    assert_eq!(people["rows"], 3);
    let wrong = admin
        .run(&[
            "admin",
            "datasets",
            "put",
            "x",
            &fixture_path("people.csv").replace(".csv", ".txt"),
        ])
        .await;
    wrong.expect_code(2);
    let bad_name = admin
        .run(&[
            "admin",
            "datasets",
            "put",
            "Bad-Name",
            &fixture_path("people.csv"),
        ])
        .await;
    bad_name.expect_code(1);
    assert!(
        bad_name.stderr.contains("Dataset name must match"),
        "{bad_name:?}"
    );

    // Ana reads nothing yet: the datasets do not exist for her.
    let ana = Da::new();
    ana.login(&server.base_url, "ana@example.com", "correct-horse-1")
        .await
        .ok();
    let none = ana.run(&["datasets", "list"]).await;
    none.ok();
    assert_eq!(none.stderr.trim(), "No datasets you may read.");
    let hidden = ana.run(&["datasets", "show", "sales"]).await;
    hidden.expect_code(4);
    assert!(hidden.stderr.contains("Dataset not found"), "{hidden:?}");

    admin
        .run(&["admin", "groups", "create", "Sales team"])
        .await
        .ok();
    admin
        .run(&[
            "admin",
            "groups",
            "add-member",
            "Sales team",
            "ana@example.com",
        ])
        .await
        .ok();
    let granted = admin
        .run(&["admin", "datasets", "grant", "sales", "sales team"])
        .await;
    granted.ok();
    assert_eq!(
        granted.stdout.trim(),
        "Members of Sales team may read sales."
    );
    let shown = admin.run(&["datasets", "show", "sales"]).await;
    shown.ok();
    for expected in [
        "sales (parquet, 1000 rows",
        "Orders by region",
        "groups Sales team",
        "amount",
        "DECIMAL(10,2)",
    ] {
        assert!(shown.stdout.contains(expected), "{expected}: {shown:?}");
    }

    let listed = ana.run(&["datasets", "list"]).await;
    listed.ok();
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    assert!(
        listed.stdout.contains("sales") && !listed.stdout.contains("people"),
        "{listed:?}"
    );

    // Queries: an aligned table with types, CSV, JSON; truncation said on stderr.
    let table = ana
        .run(&[
            "query",
            "SELECT region, count(*) AS n FROM sales GROUP BY region ORDER BY region",
        ])
        .await;
    table.ok();
    let header = table.stdout.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("region (VARCHAR)") && header.contains("n (BIGINT)"),
        "{table:?}"
    );
    assert!(table.stderr.contains(" rows in "), "{table:?}");
    let csv = ana
        .run(&[
            "query",
            "SELECT id, region FROM sales ORDER BY id LIMIT 2",
            "--format",
            "csv",
        ])
        .await;
    csv.ok();
    assert_eq!(csv.stdout.lines().next(), Some("id,region"), "{csv:?}");
    assert_eq!(csv.stdout.lines().count(), 3, "{csv:?}");
    let json = ana
        .run_with_stdin(
            &["query", "--stdin", "--format", "json", "--limit", "5"],
            "SELECT id FROM sales ORDER BY id",
        )
        .await;
    json.ok();
    let answer = json.json();
    assert_eq!(answer["row_count"], 5);
    assert_eq!(answer["truncated"], true);
    assert_eq!(answer["rows"].as_array().map(Vec::len), Some(5));
    let truncated = ana
        .run(&["query", "SELECT id FROM sales", "--limit", "3"])
        .await;
    truncated.ok();
    assert!(
        truncated.stderr.contains("(truncated at 3 rows)"),
        "{truncated:?}"
    );
    let refused = ana.run(&["query", "SELECT * FROM people"]).await;
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Unknown dataset: people"),
        "{refused:?}"
    );
    let file = ana.run(&["query", "SELECT * FROM '/etc/passwd'"]).await;
    file.expect_code(1);
    assert!(
        file.stderr.contains("Only datasets can be queried"),
        "{file:?}"
    );
    ana.run(&["query"]).await.expect_code(2);

    // Sync: what Ana may read, verified; the second run downloads nothing; her own files
    // in the directory stay; a dataset she may no longer read goes.
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_string_lossy().into_owned();
    std::fs::write(dir.path().join("mine.csv"), "a,b\n1,2\n").unwrap();
    let first = ana.run(&["sync", "--dir", &dir_arg]).await;
    first.ok();
    assert!(first.stdout.contains("downloaded sales"), "{first:?}");
    assert!(
        first
            .stdout
            .contains("1 downloaded, 0 up to date, 0 removed"),
        "{first:?}"
    );
    let synced = std::fs::read(dir.path().join("sales.parquet")).unwrap();
    assert_eq!(
        synced,
        std::fs::read(fixture_path("sales.parquet")).unwrap()
    );
    let second = ana
        .run(&["sync", "--dir", &dir_arg, "--json"])
        .await
        .ok()
        .json();
    assert_eq!(second["downloaded"], serde_json::json!([]));
    assert_eq!(second["up_to_date"], 1);
    // A local copy that was changed is downloaded again.
    std::fs::write(dir.path().join("sales.parquet"), b"edited").unwrap();
    let repaired = ana.run(&["sync", "--dir", &dir_arg]).await;
    repaired.ok();
    assert!(repaired.stdout.contains("downloaded sales"), "{repaired:?}");
    let unknown = ana.run(&["sync", "--dir", &dir_arg, "people"]).await;
    unknown.expect_code(4);

    admin
        .run(&["admin", "datasets", "revoke", "sales", "Sales team"])
        .await
        .ok();
    let third = ana.run(&["sync", "--dir", &dir_arg]).await;
    third.ok();
    assert!(
        third
            .stdout
            .contains("removed sales.parquet (no longer readable)"),
        "{third:?}"
    );
    assert!(!dir.path().join("sales.parquet").exists());
    assert!(
        dir.path().join("mine.csv").exists(),
        "the user's own file stays"
    );

    // A minimum role opens a dataset to a role and above; `none` closes it again.
    let set = admin
        .run(&["admin", "datasets", "set", "people", "--min-role", "viewer"])
        .await;
    set.ok();
    assert_eq!(set.stdout.trim(), "Saved people (minimum role viewer).");
    let now = ana.run(&["datasets", "list", "--json"]).await.ok().json();
    assert_eq!(now[0]["name"], "people");
    admin
        .run(&["admin", "datasets", "set", "people", "--min-role", "none"])
        .await
        .ok();
    admin
        .run(&["admin", "datasets", "set", "people", "--min-role", "boss"])
        .await
        .expect_code(1);

    let unconfirmed = admin.run(&["admin", "datasets", "delete", "people"]).await;
    unconfirmed.expect_code(2);
    admin
        .run(&["admin", "datasets", "delete", "people", "--yes"])
        .await
        .ok();
    admin
        .run(&["admin", "datasets", "delete", "people", "--yes"])
        .await
        .expect_code(4);
    // Not an admin: refused with the permission exit code.
    ana.run(&["admin", "datasets", "delete", "sales", "--yes"])
        .await
        .expect_code(3);
}
